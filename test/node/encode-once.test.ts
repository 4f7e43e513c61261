/**
 * The write path encodes each new state once: the local write's commit encodes it, and the
 * store, the eager push, the peers' merges, their forwards and the records all reuse those
 * bytes. Counted by running real nodes in a child process whose src/core/encoding.ts is
 * wrapped by a counter (test/helpers/encode-counter).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

interface Counts { encodes: number, digests: number }
interface Result {
  probe: Counts
  single: Counts
  singleOk: boolean
  recordsOnB: number
  bulk: Counts & { patterns: number }
  reads: Counts
}

describe('one encode per write', () => {
  it('a write, its pushes, the forwards, the merges and the records encode the new state once', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import', 'tsx', '--import', './test/helpers/encode-counter/register.mjs', 'test/helpers/encode-counter/write-path.ts'
    ], { cwd: REPO, timeout: 120_000 })
    const r = JSON.parse(stdout.trim().split('\n').at(-1) as string) as Result
    assert.equal(r.probe.encodes, 1, 'the counter sees an encode (it is not blind)')
    assert.ok(r.singleOk, 'b and c hold the write, with the digest a reported')
    assert.equal(r.recordsOnB, 101, 'b\'s merged listener got a record for every pattern it took')
    assert.equal(r.single.encodes, 1, `one write on a, pushed to b and c and forwarded between them: ${JSON.stringify(r.single)}`)
    // one digest where the state is made and one per received copy (2 pushes, 2 forwards)
    assert.equal(r.single.digests, 5, JSON.stringify(r.single))
    assert.equal(r.bulk.patterns, 100)
    assert.equal(r.bulk.encodes, 100, `a bulk write of 100 keys: ${JSON.stringify(r.bulk)}`)
    assert.equal(r.reads.encodes, 0, 'records read back are not encoded again')
  })
})
