import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { CompactMerkleIndex, PAGE_COUNT } from '../../src/core/compact-index.js'
import { EMPTY_HASH, MERKLE_DEPTH, MerkleIndex, childPrefixes, diffIndexes, toHex, type Prefix } from '../../src/core/merkle.js'
import { sha256 } from '../../src/core/encoding.js'
import { InvalidEncodingError } from '../../src/core/errors.js'

// key hashes crowded into a few leaves and pages (and a few spread out), so that inserts land
// before, between and after each other in one leaf, and leaves of one page fill and empty
const keyHashArb = fc.tuple(fc.constantFrom(0x00, 0x01, 0x7f, 0xff), fc.constantFrom(0x00, 0x01, 0x0f, 0x10, 0xff),
  // a small pool of tails (so keys repeat: updates, deletes of what is there) and random ones
  fc.oneof(fc.integer({ min: 0, max: 7 }).map(n => new Uint8Array(30).fill(n * 37)), fc.uint8Array({ minLength: 30, maxLength: 30 })))
  .map(([a, b, tail]) => Uint8Array.of(a, b, ...tail))
const digestArb = fc.integer({ min: 0, max: 5 }).map(n => sha256(Uint8Array.of(n)))
const opArb = fc.oneof(
  fc.record({ op: fc.constant('set' as const), kh: keyHashArb, digest: digestArb }),
  fc.record({ op: fc.constant('delete' as const), kh: keyHashArb }),
  fc.record({ op: fc.constant('setMany' as const), items: fc.array(fc.record({ kh: keyHashArb, digest: digestArb }), { maxLength: 40 }) }),
  fc.record({ op: fc.constant('root' as const) })
)
type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never

function apply (ops: readonly Op[]): { heap: MerkleIndex, compact: CompactMerkleIndex } {
  const heap = new MerkleIndex()
  const compact = new CompactMerkleIndex()
  for (const o of ops) {
    if (o.op === 'set') {
      heap.set(o.kh, o.digest)
      compact.set(o.kh, o.digest)
    } else if (o.op === 'delete') {
      assert.equal(compact.delete(o.kh), heap.delete(o.kh))
      assert.equal(compact.has(o.kh), false)
      assert.equal(heap.has(o.kh), false)
    } else if (o.op === 'setMany') {
      for (const it of o.items) heap.set(it.kh, it.digest)
      compact.setMany(o.items)
    } else {
      // a root between writes: what is cached must be invalidated by the next write
      assert.deepEqual(compact.root(), heap.root())
    }
  }
  return { heap, compact }
}

/** Every node either index holds, compared: hash, count, children and listing. */
function assertSame (heap: MerkleIndex, compact: CompactMerkleIndex): void {
  assert.equal(compact.size, heap.size)
  assert.deepEqual(compact.root(), heap.root())
  const walk = (p: Prefix): void => {
    assert.deepEqual(compact.node(p), heap.node(p), `node ${p}`)
    if (heap.node(p).count === 0) return
    assert.deepEqual(compact.entries(p), heap.entries(p), `entries ${p}`)
    assert.deepEqual([...compact.keyHashes(p)], heap.entries(p).map(e => e.keyHash))
    if (p.length < MERKLE_DEPTH) {
      assert.deepEqual(compact.children(p), heap.children(p), `children ${p}`)
      for (const c of childPrefixes(p)) walk(c)
    }
  }
  walk('')
  for (const e of heap.entries('')) {
    assert.deepEqual(compact.get(e.keyHash), e.digest)
    assert.ok(compact.has(e.keyHash) && heap.has(e.keyHash))
    assert.ok(compact.holds(e.keyHash, e.digest))
    const other = e.digest.slice()
    other[31] = (other[31] as number) ^ 1
    assert.equal(compact.holds(e.keyHash, other), false)
    // a wrong-size key hash or digest is never held
    assert.equal(compact.holds(e.keyHash, e.digest.subarray(1)), false)
    assert.equal(compact.has(e.keyHash.subarray(1)), false)
  }
}

describe('compact Merkle index', () => {
  it('gives the same root, nodes, children, listings and digests as the in-heap index (property)', () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 120 }), ops => {
      const { heap, compact } = apply(ops)
      assertSame(heap, compact)
    }), { numRuns: 300 })
  })

  it('finds the same differences between two indexes as the in-heap one (property)', () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 80 }), fc.array(opArb, { maxLength: 80 }), (opsA, opsB) => {
      const a = apply(opsA)
      const b = apply(opsB)
      assert.deepEqual(diffIndexes(a.compact, b.compact), diffIndexes(a.heap, b.heap))
      // and across kinds, so a compact store reconciles with an in-heap peer
      assert.deepEqual(diffIndexes(a.compact, b.heap), diffIndexes(a.heap, b.heap))
    }), { numRuns: 200 })
  })

  it('agrees with the in-heap index on thousands of random key hashes, loaded in bulk or one by one', () => {
    const heap = new MerkleIndex()
    const one = new CompactMerkleIndex()
    const bulk = new CompactMerkleIndex()
    const items = Array.from({ length: 5000 }, (_, i) => ({ kh: sha256(Buffer.from(`k${i}`)), digest: sha256(Buffer.from(`v${i}`)) }))
    for (const it of items) {
      heap.set(it.kh, it.digest)
      one.set(it.kh, it.digest)
    }
    bulk.setMany(items.slice(0, 2500))
    bulk.setMany(items.slice(2500))
    assertSame(heap, one)
    assertSame(heap, bulk)
    // an update in place and a delete move the root exactly as in the heap index
    heap.set(items[7]!.kh, EMPTY_HASH)
    one.set(items[7]!.kh, EMPTY_HASH)
    heap.delete(items[9]!.kh)
    one.delete(items[9]!.kh)
    assertSame(heap, one)
    assert.notDeepEqual(one.root(), bulk.root())
  })

  it('keeps a crowded page in step with the in-heap index as it fills in place, empties and is saved', () => {
    // thousands of key hashes under one page (0x123), so its entries outgrow the size that gets room
    // (pageCapacity) and inserts, updates and deletes land in a page that has room
    const kh = (i: number): Uint8Array => Uint8Array.of(0x12, 0x30 | (i % 16), ...sha256(Buffer.from(`c${i}`)).subarray(2))
    const heap = new MerkleIndex()
    const compact = new CompactMerkleIndex()
    let next = 0
    for (const size of [1, 40, 7, 1, 200, 3, 500, 1, 60, 2, 1000, 5]) {
      const items = Array.from({ length: size }, () => ({ kh: kh(next), digest: sha256(Buffer.from(`v${next++}`)) }))
      for (const it of items) heap.set(it.kh, it.digest)
      compact.setMany(items)
      // an update and a delete between the batches, of entries anywhere in the page
      heap.set(kh(next >> 1), EMPTY_HASH)
      compact.set(kh(next >> 1), EMPTY_HASH)
      assert.equal(compact.delete(kh(next >> 2)), heap.delete(kh(next >> 2)))
      assert.deepEqual(compact.root(), heap.root(), `after a batch of ${size}`)
    }
    assertSame(heap, compact)
    // only its entries are saved, never the room after them
    const saved = compact.exportPage(0x123) as Uint8Array
    assert.equal(saved.length, 16 * 4 + compact.size * 62)
    const copy = new CompactMerkleIndex()
    copy.importPage(0x123, saved)
    assertSame(heap, copy)
    for (const e of heap.entries('')) assert.equal(compact.delete(e.keyHash), true)
    assert.deepEqual(compact.root(), EMPTY_HASH)
    assert.equal(compact.exportPage(0x123), undefined)
  })

  it('round-trips its pages and refuses a damaged one', () => {
    const src = new CompactMerkleIndex()
    src.setMany(Array.from({ length: 3000 }, (_, i) => ({ kh: sha256(Buffer.from(`p${i}`)), digest: sha256(Buffer.from(`d${i}`)) })))
    // and a few in one leaf (0x1234, page 0x123), so a page holds a leaf of several
    src.setMany(Array.from({ length: 5 }, (_, i) => ({ kh: Uint8Array.of(0x12, 0x34, ...sha256(Buffer.from(`t${i}`)).subarray(2)), digest: EMPTY_HASH })))
    const copy = new CompactMerkleIndex()
    for (let p = 0; p < PAGE_COUNT; p++) copy.importPage(p, src.exportPage(p))
    assert.deepEqual(copy.root(), src.root())
    assert.equal(copy.size, src.size)
    assert.deepEqual(copy.entries(''), src.entries(''))

    const page = 0x123
    const good = src.exportPage(page) as Uint8Array
    const cases: Array<[string, Uint8Array]> = [
      ['truncated', good.subarray(0, 10)],
      ['wrong length', good.subarray(0, good.length - 1)],
      // two entries of one leaf swapped: out of order
      ['out of order', (() => {
        const b = good.slice()
        const counts = new DataView(b.buffer)
        let leafStart = 0
        let i = 0
        while (counts.getUint32(i * 4) < 2) leafStart += counts.getUint32(4 * i++)
        const at = 64 + leafStart * 62
        const first = b.slice(at, at + 62)
        b.copyWithin(at, at + 62, at + 124)
        b.set(first, at + 62)
        return b
      })()]
    ]
    for (const [why, bad] of cases) {
      assert.throws(() => copy.importPage(page, bad), (err: Error) => err.name === 'InvalidEncodingError' && err instanceof InvalidEncodingError, why)
    }
    assert.deepEqual(copy.root(), src.root(), 'a refused page leaves the index as it was')
    copy.importPage(page, undefined)
    assert.notDeepEqual(copy.root(), src.root())
    assert.equal(toHex(copy.node('').hash).length, 64)
  })
})
