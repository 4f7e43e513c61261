/**
 * Bytes peers sent us on gossip streams that we have not read yet, node-wide, against one
 * limit. Each stream's backlog is already bounded (a paused stream receives at most one muxer
 * window, and a begun frame must finish within the message timeout); this bounds their sum,
 * so many peers (or many fresh identities) together cannot make the node buffer without end.
 */
export class ByteBudget {
  private used = 0

  constructor (readonly limit: number) {}

  /** Bytes held now. */
  get held (): number {
    return this.used
  }

  /** Counts `n` more bytes held; false if that goes over the limit (the caller drops what brought them). */
  take (n: number): boolean {
    this.used += n
    return this.used <= this.limit
  }

  /** `n` bytes are no longer held (read, or their stream ended). */
  give (n: number): void {
    this.used = Math.max(0, this.used - n)
  }
}
