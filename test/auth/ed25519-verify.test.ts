/**
 * Signature checks in batches on worker threads give the same answers as checks in place,
 * item by item, and a worker that dies costs no check: its share is checked in place.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createPrivateKey, sign, verify } from 'node:crypto'
import { Ed25519Verifier, verifyInPlace, type SignedItem } from '../../src/auth/ed25519-verify.js'
import { publicKeyOf, signerOf } from '../../src/auth/ed25519-keys.js'
import { realAuthor } from '../helpers/authors.js'

/** `n` items signed by a few real writers, every `badEvery`-th one altered (its message, its signature or its key) */
async function items (n: number, badEvery: number): Promise<{ items: SignedItem[], valid: boolean[] }> {
  const writers = await Promise.all([realAuthor(), realAuthor(), realAuthor()])
  const out: SignedItem[] = []
  const valid: boolean[] = []
  for (let i = 0; i < n; i++) {
    const w = writers[i % writers.length]!
    const message = new TextEncoder().encode(`write ${i} `.repeat(1 + (i % 7)))
    const sig = signerOf(w.privateKey)(message)
    const item = { key: publicKeyOf(w.node), message, sig }
    const bad = i % badEvery === badEvery - 1
    if (bad) {
      const how = (i / badEvery) % 3
      if (how === 0) item.message = Uint8Array.from(message, (b, j) => j === 0 ? b ^ 1 : b)
      else if (how === 1) item.sig = Uint8Array.from(sig, (b, j) => j === 63 ? b ^ 0x10 : b)
      else item.key = publicKeyOf(writers[(i + 1) % writers.length]!.node)
    }
    out.push(item)
    valid.push(!bad)
  }
  return { items: out, valid }
}

describe('Ed25519 checks on worker threads', () => {
  const verifiers: Ed25519Verifier[] = []
  after(() => { for (const v of verifiers) v.close() })

  it('a batch split over workers answers item by item as the checks in place and as node:crypto', async () => {
    const { items: all, valid } = await items(700, 5)
    const v = new Ed25519Verifier(2)
    verifiers.push(v)
    const ok = await v.verify(all)
    assert.deepEqual([...ok].map(x => x === 1), valid)
    assert.deepEqual(all.map(verifyInPlace), valid)
    // the library the node signs with agrees on every item
    const spki = (key: Uint8Array): Buffer => Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), key])
    assert.deepEqual(all.map(i => verify(null, i.message, { key: spki(i.key), format: 'der', type: 'spki' }, i.sig)), valid)
  })

  it('a node signs the bytes node:crypto makes with its key (Ed25519 is deterministic), and refuses a key whose halves do not match', async () => {
    const w = await realAuthor()
    const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), w.privateKey.raw.subarray(0, 32)])
    const keyObject = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })
    for (const text of ['', 'one write', 'x'.repeat(1000)]) {
      const message = new TextEncoder().encode(text)
      assert.deepEqual(w.sign(message), new Uint8Array(sign(null, message, keyObject)))
    }
    const other = await realAuthor()
    const mixed = { ...w.privateKey, publicKey: other.privateKey.publicKey } as unknown as typeof w.privateKey
    assert.throws(() => signerOf(mixed), { name: 'UnverifiableWriterError', message: /does not match/ })
  })

  it('a wrong-sized key or signature does not verify, in place or on a worker', async () => {
    const { items: all } = await items(40, 1000)
    const v = new Ed25519Verifier(1)
    verifiers.push(v)
    const broken = [...all]
    broken[3] = { ...all[3]!, key: all[3]!.key.subarray(0, 31) }
    broken[9] = { ...all[9]!, sig: all[9]!.sig.subarray(0, 63) }
    broken[11] = { ...all[11]!, key: new Uint8Array(32), sig: new Uint8Array(64) }
    const ok = await v.verify(broken)
    assert.deepEqual([3, 9, 11].map(i => ok[i]), [0, 0, 0])
    assert.equal(ok.reduce((a, b) => a + b, 0), 37)
    assert.equal(verifyInPlace(broken[3]!), false)
    assert.equal(verifyInPlace(broken[9]!), false)
  })

  it('a worker that dies mid-batch costs no check: its share is checked in place, and the next batch starts a new worker', async () => {
    const { items: all, valid } = await items(400, 7)
    const v = new Ed25519Verifier(1)
    verifiers.push(v)
    await v.verify(all) // starts the worker
    const running = (v as unknown as { running: Array<{ worker: { terminate: () => Promise<number> } } | undefined> }).running
    const first = running[0]
    assert.ok(first !== undefined, 'a worker runs after a batch')
    const pending = v.verify(all)
    void first.worker.terminate()
    assert.deepEqual([...await pending].map(x => x === 1), valid)
    assert.deepEqual([...await v.verify(all)].map(x => x === 1), valid)
    assert.ok(running[0] !== undefined && running[0] !== first, 'a new worker')
  })

  it('after close, checks still run (in place)', async () => {
    const { items: all, valid } = await items(64, 4)
    const v = new Ed25519Verifier(1)
    v.close()
    assert.deepEqual([...await v.verify(all)].map(x => x === 1), valid)
  })
})
