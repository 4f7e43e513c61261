import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { EMPTY_HASH, MERKLE_DEPTH, MerkleIndex, diffIndexes, toHex, type Prefix } from '../../src/core/merkle.js'
import { keyHash, sha256 } from '../../src/core/encoding.js'

function allNodeHashes (idx: MerkleIndex): Map<Prefix, string> {
  const out = new Map<Prefix, string>()
  const walk = (p: Prefix): void => {
    const n = idx.node(p)
    if (n.count === 0) return
    out.set(p, toHex(n.hash))
    if (p.length < MERKLE_DEPTH) for (const c of '0123456789abcdef') walk(p + c)
  }
  walk('')
  return out
}

const digestOf = (s: string): Uint8Array => sha256(Buffer.from(s))

describe('merkle index', () => {
  it('is empty-hashed when empty and independent of insertion order', () => {
    const a = new MerkleIndex()
    assert.deepEqual(a.root(), EMPTY_HASH)
    const b = new MerkleIndex()
    const keys = Array.from({ length: 500 }, (_, i) => `key-${i}`)
    for (const k of keys) a.set(keyHash(k), digestOf(k))
    for (const k of [...keys].reverse()) b.set(keyHash(k), digestOf(k))
    assert.deepEqual(a.root(), b.root())
    assert.equal(a.size, 500)
    assert.notDeepEqual(a.root(), EMPTY_HASH)
    // removing everything returns to the empty hash
    for (const k of keys) assert.ok(b.delete(keyHash(k)))
    assert.deepEqual(b.root(), EMPTY_HASH)
    assert.equal(b.size, 0)
  })

  it('one insert or update changes exactly its root-to-leaf path', () => {
    const idx = new MerkleIndex()
    for (let i = 0; i < 2000; i++) idx.set(keyHash(`k${i}`), digestOf(`v${i}`))
    for (const [key, value] of [['new-key', 'x'], ['k7', 'changed']] as const) {
      const before = allNodeHashes(idx)
      idx.set(keyHash(key), digestOf(value))
      const after = allNodeHashes(idx)
      const path = Array.from({ length: MERKLE_DEPTH + 1 }, (_, d) => toHex(keyHash(key)).slice(0, d))
      const changed = [...new Set([...before.keys(), ...after.keys()])].filter(p => before.get(p) !== after.get(p)).sort()
      assert.deepEqual(changed, path.sort())
    }
  })

  it('10,000 patterns with exactly 100 differing: the diff names exactly those keys', () => {
    const a = new MerkleIndex()
    const b = new MerkleIndex()
    const expected = new Set<string>()
    for (let i = 0; i < 10_000; i++) {
      const kh = keyHash(`pattern-${i}`)
      const d = digestOf(`state-${i}`)
      if (i % 100 === 0) { // 100 differing keys: 34 only on a, 33 only on b, 33 with different states
        expected.add(toHex(kh))
        const which = (i / 100) % 3
        if (which === 0) a.set(kh, d)
        else if (which === 1) b.set(kh, d)
        else { a.set(kh, d); b.set(kh, randomBytes(32)) }
      } else {
        a.set(kh, d)
        b.set(kh, d)
      }
    }
    const diff = diffIndexes(a, b)
    assert.equal(diff.length, 100)
    assert.deepEqual(new Set(diff.map(toHex)), expected)
    assert.deepEqual(diffIndexes(b, a).map(toHex), diff.map(toHex))
    assert.deepEqual(diffIndexes(a, a), [])
  })

  it('children and entries expose the tree for the protocol', () => {
    const idx = new MerkleIndex()
    for (let i = 0; i < 300; i++) idx.set(keyHash(`k${i}`), digestOf(`v${i}`))
    const kids = idx.children('')
    assert.equal(kids.length, 16)
    assert.equal(kids.reduce((n, c) => n + c.count, 0), 300)
    const first = toHex(keyHash('k0'))
    const leaf = idx.entries(first.slice(0, MERKLE_DEPTH))
    assert.ok(leaf.some(e => toHex(e.keyHash) === first))
    assert.equal(idx.entries('').length, 300)
    assert.throws(() => idx.node('xyz'), { name: 'InvalidEncodingError' })
    assert.throws(() => idx.children('0000'), { name: 'InvalidEncodingError' })
    assert.throws(() => idx.set(new Uint8Array(3), new Uint8Array(32)), { name: 'InvalidEncodingError' })
  })
  it('entries under every prefix are exactly the sorted key hashes with that prefix, after inserts and deletes', () => {
    const idx = new MerkleIndex()
    const held = new Set<string>()
    for (let i = 0; i < 2000; i++) {
      const kh = keyHash(`e${i}`)
      idx.set(kh, digestOf(`v${i}`))
      held.add(toHex(kh))
      if (i % 3 === 0) { idx.delete(keyHash(`e${i >> 1}`)); held.delete(toHex(keyHash(`e${i >> 1}`))) }
    }
    const sorted = [...held].sort()
    const prefixes = ['', ...'0123456789abcdef', ...sorted.slice(0, 40).flatMap(h => [h.slice(0, 2), h.slice(0, 3), h.slice(0, MERKLE_DEPTH)]), 'f0f0', '00']
    for (const p of prefixes) {
      assert.deepEqual(idx.entries(p).map(e => toHex(e.keyHash)), sorted.filter(h => h.startsWith(p)), `prefix ${JSON.stringify(p)}`)
    }
  })

  it('node hashes follow the spec (leaf = H(0 || sorted keyHash||digest), inner = H(1 || 16 children)), after updates and deletes', () => {
    const idx = new MerkleIndex()
    const entries = new Map<string, Uint8Array>()
    // few leading nibbles so leaves and inner nodes hold several entries
    for (let i = 0; i < 400; i++) {
      const kh = new Uint8Array(randomBytes(32))
      kh[0] = (kh[0] as number) & 0x11
      kh[1] = (kh[1] as number) & 0x10
      const d = new Uint8Array(randomBytes(32))
      idx.set(kh, d)
      entries.set(toHex(kh), d)
      if (i % 7 === 0) { const victim = [...entries.keys()][i % entries.size] as string; idx.delete(Buffer.from(victim, 'hex')); entries.delete(victim) }
    }
    const h = (...parts: Uint8Array[]): string => { const x = createHash('sha256'); for (const q of parts) x.update(q); return x.digest('hex') }
    const expect = (p: Prefix): string => {
      const under = [...entries.keys()].filter(k => k.startsWith(p)).sort()
      if (under.length === 0) return toHex(EMPTY_HASH)
      if (p.length === MERKLE_DEPTH) return h(new Uint8Array([0]), ...under.flatMap(k => [Buffer.from(k, 'hex'), entries.get(k) as Uint8Array]))
      return h(new Uint8Array([1]), ...[...'0123456789abcdef'].map(c => Buffer.from(expect(p + c), 'hex')))
    }
    for (const p of ['', '0', '1', '01', '10', '011', '1010', '0110']) assert.equal(toHex(idx.node(p).hash), expect(p), p)
    assert.equal(idx.size, entries.size)
    assert.deepEqual(idx.entries('').map(e => toHex(e.keyHash)), [...entries.keys()].sort())
  })
})
