/**
 * Signatures already verified, bounded, in two generations: a lookup checks both, a new entry
 * goes to the young one, and when it is full the old one is dropped whole. Evicting one oldest
 * entry at a time from a Map is O(1) in principle, but V8 leaves deleted slots in place and
 * `keys().next()` walks over all of them, which made a bulk pull's checks quadratic.
 */
export class VerifiedCache {
  private young = new Map<string, Uint8Array>()
  private old = new Map<string, Uint8Array>()
  private readonly generation: number

  /** `limit`: entries held at most (0: none) */
  constructor (readonly limit: number) {
    this.generation = Math.floor(limit / 2)
  }

  get size (): number {
    return this.young.size + this.old.size
  }

  /** The message `id` was verified for, if it is remembered. */
  get (id: string): Uint8Array | undefined {
    return this.young.get(id) ?? this.old.get(id)
  }

  set (id: string, message: Uint8Array): void {
    if (this.generation === 0) return
    this.young.set(id, message)
    if (this.young.size >= this.generation) {
      this.old = this.young
      this.young = new Map()
    }
  }
}
