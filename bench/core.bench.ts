/**
 * Core benchmark: merges/s, Merkle updates/s, store ingest patterns/s (batches of 1k)
 * for 100k patterns. Prints a table; `--json` prints JSON too. Figures, not assertions.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir, cpus } from 'node:os'
import { join } from 'node:path'
import { applyWrite, type PatternState } from '../src/core/pattern.js'
import { mergePatterns } from '../src/core/merge.js'
import { MerkleIndex } from '../src/core/merkle.js'
import { encodePattern, keyHash, patternDigest, decodePattern } from '../src/core/encoding.js'
import { Replica } from '../src/store/replica.js'
import type { BenchFn } from './lib/types.js'
import { author, realAuthor } from '../test/helpers/authors.js'
import { checksOf, WriteVerifier } from '../src/auth/write-verifier.js'
import { verifyInPlace } from '../src/auth/ed25519-verify.js'
import { publicKeyOf } from '../src/auth/ed25519-keys.js'
import { createPublicKey, verify as cryptoVerify } from 'node:crypto'

const N = Number(process.env.BENCH_CORE_N ?? 100_000)

function makePatterns (n: number, node: string, confidence: number): PatternState[] {
  const out: PatternState[] = []
  for (let i = 0; i < n; i++) {
    out.push(applyWrite(undefined, `pattern/${i.toString(36)}`, {
      addEpisodes: [`ep-${i}-a`, `ep-${i}-b`, `ep-${i}-c`],
      confidence,
      summary: `consolidated memory ${i}`
    }, author(node), i + 1))
  }
  return out
}

function rate (n: number, ms: number): number {
  return Math.round(n / (ms / 1000))
}

export async function runCoreBench (n = N): Promise<Record<string, number>> {
  const a = makePatterns(n, 'node-a', 0.9)
  const b = makePatterns(n, 'node-b', 0.7)

  let t = performance.now()
  let sink = 0
  for (let i = 0; i < n; i++) sink += mergePatterns(a[i]!, b[i]!).versions.length
  const mergeMs = performance.now() - t
  if (sink !== 2 * n) throw new Error('merge benchmark computed something else')

  t = performance.now()
  const encoded = a.map(encodePattern)
  const encodeMs = performance.now() - t
  t = performance.now()
  for (const e of encoded) decodePattern(e)
  const decodeMs = performance.now() - t

  const hashes = a.map(s => keyHash(s.key))
  const digests = a.map(s => patternDigest(s))
  const idx = new MerkleIndex()
  t = performance.now()
  for (let i = 0; i < n; i++) {
    idx.set(hashes[i]!, digests[i]!)
    idx.root() // every update recomputes its path, as a live node does
  }
  const merkleMs = performance.now() - t
  t = performance.now()
  const bulk = new MerkleIndex()
  for (let i = 0; i < n; i++) bulk.set(hashes[i]!, digests[i]!)
  bulk.root()
  const merkleBulkMs = performance.now() - t

  const dir = await mkdtemp(join(tmpdir(), 'engram-bench-'))
  const replica = await Replica.open({ dir, author: author('bench') })
  t = performance.now()
  for (let i = 0; i < n; i += 1000) await replica.mergeRemote(a.slice(i, i + 1000))
  const ingestMs = performance.now() - t
  await replica.close()
  await rm(dir, { recursive: true, force: true })

  // signed writes with a real Ed25519 key: what a write costs its author, and a receiver
  const signer = await realAuthor()
  const m = Math.min(n, 20_000)
  const ops = a.slice(0, m).map(s => ({ key: s.key, op: { addEpisodes: s.versions[0]!.episodes, confidence: 0.9, summary: s.versions[0]!.summary } }))
  t = performance.now()
  const signed = ops.map(({ key, op }, i) => applyWrite(undefined, key, op, signer, i + 1))
  const signMs = performance.now() - t
  const wire = signed.map(encodePattern)
  const received = wire.map(decodePattern)
  const verifier = new WriteVerifier('bench', { cacheSize: 0 })
  t = performance.now()
  for (let i = 0; i < m; i += 512) await verifier.check(received.slice(i, i + 512))
  const verifyMs = performance.now() - t
  verifier.close()
  // one check in place, each library: what the choice of libsodium saves per signature
  const items = received.slice(0, Math.min(m, 5000)).map(s => {
    const c = checksOf(s)[0]!
    return { key: publicKeyOf(c.node), message: c.message, sig: c.sig }
  })
  const spki = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), items[0]!.key]), format: 'der', type: 'spki' })
  t = performance.now()
  for (const i of items) if (!cryptoVerify(null, i.message, spki, i.sig)) throw new Error('node:crypto refused a valid signature')
  const opensslUs = (performance.now() - t) * 1000 / items.length
  t = performance.now()
  for (const i of items) if (!verifyInPlace(i)) throw new Error('libsodium refused a valid signature')
  const sodiumUs = (performance.now() - t) * 1000 / items.length
  const bytes = wire.reduce((x, w) => x + w.length, 0) / m

  return {
    patterns: n,
    signedWritesPerSec: rate(m, signMs),
    signatureChecksPerSec: rate(m, verifyMs),
    checkUsOpenssl: opensslUs,
    checkUsSodium: sodiumUs,
    signedPatternBytes: Math.round(bytes),
    mergesPerSec: rate(n, mergeMs),
    encodesPerSec: rate(n, encodeMs),
    decodesPerSec: rate(n, decodeMs),
    merkleUpdatesPerSec: rate(n, merkleMs),
    merkleBulkInsertsPerSec: rate(n, merkleBulkMs),
    storeIngestPerSec: rate(n, ingestMs)
  }
}

/** The core figures as a section of `npm run bench`. */
export const run: BenchFn = async ({ quick }) => {
  const r = await runCoreBench(quick ? 20_000 : 100_000)
  const fmt = (n: number | undefined): string => `${(n ?? 0).toLocaleString('en-US')}/s`
  return {
    id: 'core',
    title: `Core (${r.patterns?.toLocaleString('en-US')} patterns of 3 episodes)`,
    rows: [
      { metric: 'signed writes (applyWrite + Ed25519 signature, libsodium)', ours: fmt(r.signedWritesPerSec), design: '-', target: '-' },
      {
        metric: 'signature checks of received patterns (one write each, frames of 512, worker threads, wall clock)',
        ours: `${fmt(r.signatureChecksPerSec)} (${(1e6 / (r.signatureChecksPerSec ?? 1)).toFixed(0)} µs per pattern)`,
        design: '-',
        target: '-'
      },
      {
        metric: 'one Ed25519 check in place: node:crypto (OpenSSL) / libsodium (the one used)',
        ours: `${(r.checkUsOpenssl ?? 0).toFixed(0)} µs / ${(r.checkUsSodium ?? 0).toFixed(0)} µs`,
        design: '-',
        target: '-'
      },
      { metric: 'encoded size of such a pattern (of which 64 B signature)', ours: `${r.signedPatternBytes ?? 0} B`, design: '-', target: '-' },
      { metric: 'merges (two concurrent versions)', ours: fmt(r.mergesPerSec), design: '-', target: '-' },
      { metric: 'canonical encodes / decodes', ours: `${fmt(r.encodesPerSec)} / ${fmt(r.decodesPerSec)}`, design: '-', target: '-' },
      { metric: 'Merkle updates, each followed by a root', ours: fmt(r.merkleUpdatesPerSec), design: '-', target: '-' },
      { metric: 'Merkle bulk inserts, one root at the end', ours: fmt(r.merkleBulkInsertsPerSec), design: '-', target: '-' },
      { metric: 'store ingest (merge + persist, batches of 1,000)', ours: fmt(r.storeIngestPerSec), design: '-', target: '-' }
    ],
    notes: ['Single thread; LevelDB in a temp dir; remote merges are written without fsync (local writes are fsynced).'],
    data: r
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runCoreBench()
  const cpu = cpus()[0]?.model ?? 'unknown cpu'
  process.stdout.write(`core benchmark, ${r.patterns} patterns, node ${process.version}, ${cpus().length} x ${cpu}\n`)
  for (const [k, v] of Object.entries(r)) if (k !== 'patterns') process.stdout.write(`${k.padEnd(26)} ${v.toLocaleString('en-US')}\n`)
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(r) + '\n')
}
