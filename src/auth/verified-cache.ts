/**
 * Signatures already verified, bounded, in two generations: a lookup checks both, a new entry
 * goes to the young one, and when it is full the old one is dropped whole. Evicting one oldest
 * entry at a time from a Map is O(1) in principle, but V8 leaves deleted slots in place and
 * `keys().next()` walks over all of them, which made a bulk pull's checks quadratic.
 *
 * An entry is found by a small integer taken from the signature's first bytes (a bulk pull looks
 * up every signature it receives, and making a string of each cost more than the lookup), and it
 * is a hit only when the whole signature and the message are the same: two signatures that share
 * those bytes (by chance, or ground by a peer) cost a check, never skip one.
 */

interface Entry {
  sig: Uint8Array
  message: Uint8Array
}

/** A signature's first 30 bits: a small integer, which V8 keys a Map by without allocating. */
function slotOf (sig: Uint8Array): number {
  return ((sig[0] ?? 0) | ((sig[1] ?? 0) << 8) | ((sig[2] ?? 0) << 16) | (((sig[3] ?? 0) & 0x3f) << 24))
}

function same (a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0
}

export class VerifiedCache {
  private young = new Map<number, Entry>()
  private old = new Map<number, Entry>()
  private readonly generation: number

  /** `limit`: entries held at most (0: none) */
  constructor (readonly limit: number) {
    this.generation = Math.floor(limit / 2)
  }

  get size (): number {
    return this.young.size + this.old.size
  }

  /** Whether `sig` was verified for `message` and is remembered. */
  has (sig: Uint8Array, message: Uint8Array): boolean {
    const slot = slotOf(sig)
    const e = this.young.get(slot) ?? this.old.get(slot)
    return e !== undefined && same(e.sig, sig) && same(e.message, message)
  }

  /** Remembers that `sig` verifies for `message` (it takes the place of another signature in its slot). */
  set (sig: Uint8Array, message: Uint8Array): void {
    if (this.generation === 0) return
    this.young.set(slotOf(sig), { sig, message })
    if (this.young.size >= this.generation) {
      this.old = this.young
      this.young = new Map()
    }
  }
}
