import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ENTRY_BYTES, TAIL_BYTES, hasDigest, insertEntries, pageCapacity, removeEntry } from '../../src/core/index-page.js'

const entry = (n: number): { kh: Uint8Array, digest: Uint8Array } =>
  ({ kh: Uint8Array.of(0, 0, ...new Uint8Array(TAIL_BYTES).fill(n)), digest: new Uint8Array(32).fill(255 - n) })

/** The entries of a page of n as numbers (their tails' first byte), in order. */
const tags = (page: Uint8Array | undefined, n: number): number[] => Array.from({ length: n }, (_, e) => page?.[e * ENTRY_BYTES] as number)

function pageOf (values: number[], capacity: number): Uint8Array {
  const page = new Uint8Array(capacity * ENTRY_BYTES)
  values.forEach((v, e) => {
    page.set(entry(v).kh.subarray(2), e * ENTRY_BYTES)
    page.set(entry(v).digest, e * ENTRY_BYTES + TAIL_BYTES)
  })
  return page
}

describe('index page', () => {
  it('inserts at their positions, in place when the page has room and into a new page with room when not (property)', () => {
    fc.assert(fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: 254 }), { maxLength: 80 }).map(a => a.sort((x, y) => x - y)),
      fc.integer({ min: 0, max: 40 }),
      fc.integer({ min: 0, max: 8 }),
      (values, inserting, room) => {
        // the first `inserting` go in later; the page holds the rest, in order, with `room` spare entries
        const held = values.slice(inserting)
        const added = values.slice(0, inserting)
        const page = held.length === 0 && room === 0 ? undefined : pageOf(held, held.length + room)
        const inserts = added.map(v => ({ pos: held.filter(h => h < v).length, ...entry(v) }))
        const out = insertEntries(page, held.length, inserts)
        assert.deepEqual(tags(out, values.length), values)
        for (let e = 0; e < values.length; e++) {
          assert.deepEqual(out.subarray(e * ENTRY_BYTES + TAIL_BYTES, (e + 1) * ENTRY_BYTES), entry(values[e] as number).digest)
        }
        if (page !== undefined && room >= added.length) assert.equal(out, page, 'in place when it has room')
        else assert.equal(out.length, pageCapacity(values.length) * ENTRY_BYTES)
      }), { numRuns: 300 })
  })

  it('removes in place, and gives no page for the last entry', () => {
    const page = pageOf([1, 2, 3, 4], 6)
    assert.equal(removeEntry(page, 4, 1), page)
    assert.deepEqual(tags(page, 3), [1, 3, 4])
    assert.equal(removeEntry(pageOf([9], 1), 1, 0), undefined)
  })

  it('moves to a smaller page once less than half of its room is used, keeping the order', () => {
    const values = Array.from({ length: 40 }, (_, i) => i * 3)
    let page = pageOf(values, pageCapacity(values.length)) as Uint8Array | undefined
    const held = [...values]
    const sizes = new Set<number>()
    // remove from the middle, then the front, so both halves of the copy are exercised
    while (held.length > 1) {
      const e = held.length % 2 === 0 ? Math.floor(held.length / 2) : 0
      page = removeEntry(page as Uint8Array, held.length, e)
      held.splice(e, 1)
      assert.ok(page !== undefined)
      assert.deepEqual(tags(page, held.length), held)
      assert.ok(page.length <= 2 * pageCapacity(held.length) * ENTRY_BYTES + ENTRY_BYTES, `${held.length} entries in a page of ${page.length} bytes`)
      sizes.add(page.length)
    }
    assert.ok(sizes.size > 2, 'the page shrank more than once')
  })

  it('compares an entry\'s digest in place', () => {
    const page = pageOf([5, 6], 2)
    assert.equal(hasDigest(page, 1, entry(6).digest), true)
    assert.equal(hasDigest(page, 1, entry(5).digest), false)
  })

  it('gives room only to pages big enough for it to matter', () => {
    assert.equal(pageCapacity(3), 3)
    assert.ok(pageCapacity(244) > 244)
  })
})
