/**
 * The cluster secret's cipher (xsalsa20 under @libp2p/pnet) with several connections taking
 * turns: unfixed, every turn grew the shared WebAssembly memory until the process died (the
 * network suite's crash). Fixed, the memory stays put and every stream's output is the same as
 * that of a cipher running alone.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { fixXSalsa20Memory } from '../../src/node/pnet-memory-fix.js'

type Cipher = { update(input: Uint8Array, output?: Uint8Array): Uint8Array, finalize(): void }
const xsalsa20 = createRequire(import.meta.resolve('@libp2p/pnet'))('xsalsa20') as (nonce: Uint8Array, key: Uint8Array) => Cipher

const key = new Uint8Array(32).fill(7)
const nonce = (n: number): Uint8Array => new Uint8Array(24).fill(n)
const chunk = (i: number, size: number): Uint8Array => new Uint8Array(size).fill(i % 251)

describe('xsalsa20 memory under pnet', () => {
  it('two ciphers taking turns on 64 KiB chunks for 64 MiB: no growth without bound, the same bytes as alone', () => {
    fixXSalsa20Memory(xsalsa20)
    fixXSalsa20Memory(xsalsa20) // once is enough; twice changes nothing
    const a = xsalsa20(nonce(1), key)
    const b = xsalsa20(nonce(2), key)
    const aloneA = xsalsa20(nonce(1), key)
    const aloneB = xsalsa20(nonce(2), key)
    // a large first update grows the memory: b's view of it is detached from here on
    const big = chunk(0, 1 << 20)
    assert.deepEqual(a.update(big), aloneA.update(big))
    for (let i = 1; i <= 512; i++) {
      const x = chunk(i, 64 * 1024 + i)
      const y = chunk(i + 1, 64 * 1024 - i)
      assert.deepEqual(b.update(y), aloneB.update(y), `b, turn ${i}`)
      assert.deepEqual(a.update(x), aloneA.update(x), `a, turn ${i}`)
    }
    for (const c of [a, b, aloneA, aloneB]) c.finalize()
  })
})
