/**
 * A node SIGKILLed in the middle of a stream of merges (a bulk pull from its peer) restarts
 * with a change feed consistent with its data: every stored pattern has exactly one entry,
 * no entry names a pattern it does not hold, and no seq a watcher saw before the kill is
 * handed out again. Then the pull resumes and the feed ends up with every pattern.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { EngramClient, type ChangeRecord } from '../../src/client/index.js'
import { runCli, startCli, type RunningCli } from '../helpers/cli.js'
import { waitFor } from '../helpers/wait.js'

// enough that the kill lands mid-pull even when the suite's other files load the CPU
const PATTERNS = 40_000

async function clientOf (data: string): Promise<EngramClient> {
  const info = JSON.parse(await readFile(join(data, 'api.json'), 'utf8')) as { url: string }
  return new EngramClient({ url: info.url, token: (await readFile(join(data, 'api.token'), 'utf8')).trim() })
}

/** The whole feed, page by page, and every stored key. */
async function feedAndKeys (client: EngramClient): Promise<{ feed: ChangeRecord[], keys: string[] }> {
  const feed: ChangeRecord[] = []
  for (let since = 0, more = true; more;) {
    const page = await client.changes({ since, limit: 1000 })
    feed.push(...page.changes)
    since = page.last
    more = page.more
  }
  const keys: string[] = []
  for (let cursor: string | undefined, done = false; !done;) {
    const page = await client.list({ limit: 1000, ...(cursor !== undefined ? { cursor } : {}) })
    keys.push(...page.patterns.map(p => p.key))
    done = page.nextCursor === null
    cursor = page.nextCursor ?? undefined
  }
  return { feed, keys }
}

describe('change feed across a SIGKILL mid-merge', { timeout: 240_000 }, () => {
  let dir: string
  let source: RunningCli | undefined
  let puller: RunningCli | undefined

  before(async () => { dir = await mkdtemp(join(tmpdir(), 'engram-feed-crash-')) })
  after(async () => {
    await puller?.stop('SIGKILL')
    await source?.stop('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  it('restarts with a feed that matches its data, and never hands out a seq twice', async () => {
    const [d1, d2] = [join(dir, 'data-1'), join(dir, 'data-2')]
    for (const k of ['1', '2']) assert.equal((await runCli(['key', 'generate', join(dir, `${k}.key`)])).code, 0)
    const common = ['--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--interval', '3600', '--fanout', '0']
    source = await startCli(['start', '--key', join(dir, '1.key'), '--data', d1, ...common])
    const file = join(dir, 'patterns.ndjson')
    await writeFile(file, Array.from({ length: PATTERNS }, (_, i) => JSON.stringify({ key: `p/${i}`, episodes: [`e${i}`], confidence: 0.5 })).join('\n') + '\n')
    assert.equal((await runCli(['pattern', 'import', file, '--data', d1], { timeout: 120_000 })).code, 0)
    await source.stop()

    // the puller runs first, with a watcher on its feed; then the source joins it, and the
    // sync on connect moves everything to the puller
    const args = ['start', '--key', join(dir, '2.key'), '--data', d2, ...common, '--swarm-key', join(d1, 'swarm.key')]
    puller = await startCli(args)
    const id2 = /peer id: (\S+)/.exec(puller.output())![1]!
    const pullerAddr = new RegExp(`/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${id2}`).exec(puller.output())![0]
    const client = await clientOf(d2)
    const seen: number[] = []
    const stop = new AbortController()
    const watching = (async () => {
      for await (const c of client.watch({ since: 0, signal: stop.signal, reconnect: false })) seen.push(c.seq)
    })().catch(() => {})
    source = await startCli(['start', '--key', join(dir, '1.key'), '--data', d1, ...common, '--join', pullerAddr])
    const id1 = /peer id: (\S+)/.exec(source.output())![1]!
    const addr = new RegExp(`/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${id1}`).exec(source.output())![0]
    // the first change seen: under a loaded suite the feed's reader may trail the merges by most of the pull
    await waitFor(() => seen.length >= 1, { timeout: 60_000, interval: 1, message: 'the pull to be under way' })
    await puller.stop('SIGKILL')
    stop.abort()
    await watching
    const highestSeen = Math.max(...seen)

    // started again alone first (on a new port: the source cannot reach it), to look at what the kill left
    puller = await startCli(args)
    let after = await clientOf(d2)
    const status = await after.status()
    assert.ok(status.lastChange > highestSeen, `the sequence went on past ${highestSeen} (now ${status.lastChange})`)
    const { feed, keys } = await feedAndKeys(after)
    assert.ok(keys.length > 0 && keys.length <= PATTERNS, `${keys.length} patterns after the kill`)
    assert.deepEqual(feed.map(c => c.key).sort(), [...keys].sort(), 'one entry per stored pattern, none for a pattern not held')
    for (let i = 1; i < feed.length; i++) assert.ok(feed[i]!.seq > feed[i - 1]!.seq)
    assert.ok(feed.every(c => c.origin === 'session'), 'merged in a session')

    // started again with its peer, it pulls the rest in its connect sync; the feed follows
    await puller.stop()
    puller = await startCli([...args, '--join', addr])
    after = await clientOf(d2)
    await waitFor(async () => (await after.status()).patterns === PATTERNS, { timeout: 120_000, interval: 500, message: 'the rest of the pull' })
    const done = await feedAndKeys(after)
    assert.equal(done.feed.length, PATTERNS)
    assert.equal(new Set(done.feed.map(c => c.key)).size, PATTERNS)
    const before = new Set(keys)
    const newSeqs = done.feed.filter(c => !before.has(c.key)).map(c => c.seq)
    assert.ok(newSeqs.length > 0, 'the kill came before the pull ended')
    assert.ok(newSeqs.every(s => s > highestSeen), 'no seq seen before the kill was handed out again')
  })
})
