/**
 * The status page in a real headless Chromium, against a real 3-node cluster on 127.0.0.1,
 * served by the node's real API server. A tiny node:http server here serves the page with a
 * forged /v1/status for the escaping test. Skips when /usr/bin/chromium is missing.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { startChain, stopEngrams, waitForConnectSyncs, waitForMesh, type TestEngram } from '../helpers/engram-nodes.js'
import { waitFor } from '../helpers/wait.js'
import { statusPage } from '../../src/api/status-page.js'
import { startApiServer } from '../../src/api/server.js'
import type { NodeStatus } from '../../src/node/engram-node.js'

const CHROMIUM = '/usr/bin/chromium'
const SKIP = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium; .ci/run does it): status page browser test skipped`
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync']
const TOKEN = 'test-token-0123456789'
const WAIT_MS = 15_000

/** Only these two routes; /v1/status answers `status()` unless a test swaps it. */
async function serve (status: () => Promise<unknown>): Promise<{ url: string, server: Server }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    if (req.method === 'GET' && path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      res.end(statusPage())
    } else if (req.method === 'GET' && path === '/v1/status') {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        res.writeHead(401, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: { code: 'unauthorized', message: 'bad token' } }))
        return
      }
      status().then(s => {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        res.end(JSON.stringify(s))
      }, err => { res.writeHead(500); res.end(String(err)) })
    } else if (req.method === 'GET' && path === '/v1/changes') {
      // a feed with nothing in it: the page reads it and comes back later
      res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' })
      res.end('{"heartbeat":true}\n')
    } else {
      res.writeHead(404); res.end()
    }
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

describe('status page in headless Chromium', { skip: SKIP, timeout: 180_000 }, () => {
  let nodes: TestEngram[] = []
  let dir = ''
  let base = ''
  /** the node's real API server */
  let real = ''
  let api: { url: string, close: () => Promise<void> } | undefined
  let server: Server | undefined
  let context: BrowserContext | undefined
  let fake: NodeStatus | undefined
  const requests: string[] = []
  const problems: string[] = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'engram-status-page-'))
    nodes = await startChain(3)
    await waitForMesh(nodes)
    // the sessions each pair gets on connect find nothing to move yet; wait them out so the
    // rounds counted below are the ones this test runs
    await waitForConnectSyncs(nodes)
    const [n0, n1, n2] = nodes.map(n => n.node) as [TestEngram['node'], TestEngram['node'], TestEngram['node']]
    await n0.put('here/0', { addEpisodes: ['e0'], confidence: 0.6 })
    for (let i = 0; i < 3; i++) await n1.put(`one/${i}`, { addEpisodes: [`e${i}`], confidence: 0.5 })
    for (let i = 0; i < 2; i++) await n2.put(`two/${i}`, { addEpisodes: [`e${i}`], confidence: 0.7, summary: 'from two' })
    // converge by hand (no timer, no push), then one more exchange each so both are in sync
    await n0.syncNow(n1.peerId)
    await n0.syncNow(n2.peerId)
    await n1.syncNow(n2.peerId)
    await waitFor(async () => new Set(await Promise.all(nodes.map(async n => (await n.node.status()).root))).size === 1,
      { timeout: 10_000, message: 'the three roots to be equal' })
    assert.equal((await n0.syncNow(n1.peerId)).outcome, 'in-sync')
    assert.equal((await n0.syncNow(n2.peerId)).outcome, 'in-sync')

    ;({ url: base, server } = await serve(async () => fake ?? await n0.status()))
    api = await startApiServer({ node: n0, host: '127.0.0.1', port: 0, token: TOKEN, statusPage })
    real = api.url
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 30_000,
      viewport: { width: 1200, height: 900 }
    })
    context.setDefaultTimeout(WAIT_MS)
    context.setDefaultNavigationTimeout(WAIT_MS)
    context.on('request', r => requests.push(r.url()))
    context.on('console', m => { if (m.type() === 'error') problems.push(`console: ${m.text()}`) })
  })

  after(async () => {
    await context?.close().catch(() => {})
    await new Promise(resolve => server?.close(resolve) ?? resolve(undefined))
    await api?.close().catch(() => {})
    await stopEngrams(nodes)
    if (dir !== '' && process.env.ENGRAM_KEEP_ARTIFACTS === undefined) await rm(dir, { recursive: true, force: true })
  })

  async function newPage (): Promise<Page> {
    const page = await context!.newPage()
    page.on('pageerror', err => problems.push(`pageerror: ${err.message}`))
    return page
  }

  it('signs in with the form and shows both peers in sync, the node and its rounds', async t => {
    const page = await newPage()
    await page.goto(`${real}/`)
    await page.locator('#login').waitFor({ state: 'visible' })
    await page.fill('#token-input', TOKEN)
    await page.click('#login-form button[type=submit]')

    const [n0, n1, n2] = nodes.map(n => n.node)
    for (const peer of [n1!, n2!]) {
      const row = page.locator(`#peers-body tr[data-peer="${peer.peerId.toString()}"]`)
      await row.waitFor()
      assert.equal(await row.getAttribute('data-sync'), 'in-sync')
      assert.match(await row.innerText(), /in sync/)
    }
    assert.equal(await page.locator('#peers-body tr').count(), 2)
    assert.equal(await page.locator('#node-peer-id').textContent(), n0!.peerId.toString())
    const status = await n0!.status()
    assert.equal(await page.locator('#node-patterns').textContent(), String(status.patterns))
    assert.equal(await page.locator('#node-root').textContent(), status.root)
    assert.equal(await page.locator('#node-addresses li').count(), n0!.addresses().length)
    assert.equal(await page.locator('#rounds-body tr.round').count(), status.lastRounds.length)
    assert.equal(await page.locator('#rounds-body tr[data-outcome="synced"]').count(), 2)
    assert.equal(await page.locator('#chart g.bar').count(), status.lastRounds.length)
    assert.equal(await page.getAttribute('body', 'data-state'), 'ok')
    assert.equal(await page.evaluate('sessionStorage.getItem("engram.token")'), TOKEN)

    // the latest changes, from the feed: the writes merged from the peers and our own
    await page.locator('#changes-body tr[data-key="two/1"][data-origin="session"]').waitFor()
    await page.locator('#changes-body tr[data-key="here/0"][data-origin="local"]').waitFor()

    // it keeps polling: a new local write shows up without a reload, and live in the changes
    await n0!.put('here/1', { addEpisodes: ['e1'], confidence: 0.4 })
    const row = page.locator('#changes-body tr[data-key="here/1"][data-origin="local"]')
    await row.waitFor({ timeout: 8000 })
    assert.match(await row.innerText(), /confidence 0\.4, 1 episodes/)
    assert.equal(await page.locator('#changes-body tr').first().getAttribute('data-key'), 'here/1', 'newest first')
    // (a locator, not waitForFunction: the page's CSP rightly forbids the eval that needs)
    await page.locator(`#node-patterns:text-is("${(await n0!.status()).patterns}")`).waitFor({ timeout: 8000 })

    const shot = join(dir, 'status-page.png')
    await page.screenshot({ path: shot, fullPage: true })
    const png = await readFile(shot)
    assert.ok((await stat(shot)).size > 1000, 'screenshot is not empty')
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG')
    t.diagnostic(`screenshot: ${shot}`)
    await page.close()
  })

  it('takes ?token= from the URL and drops it from the address bar; a refused token shows the form', async () => {
    const page = await newPage()
    await page.goto(`${real}/?token=${TOKEN}`)
    await page.locator('#main[data-loaded="true"]').waitFor()
    assert.equal(new URL(page.url()).search, '')
    await page.close()

    const refused = await newPage()
    await refused.goto(`${real}/?token=wrong`)
    await refused.locator('#login').waitFor({ state: 'visible' })
    assert.match(await refused.locator('#login-msg').innerText(), /refused/)
    assert.equal(await refused.evaluate('sessionStorage.getItem("engram.token")'), null)
    await refused.close()
    // the 401 itself is logged by Chromium as a console error; it is expected here
    const i = problems.findIndex(p => p.includes('401'))
    if (i >= 0) problems.splice(i, 1)
  })

  it('renders hostile strings from the network as text', async () => {
    const evil = '<img src=x id="xss" onerror="window.__pwned=1">'
    fake = {
      peerId: evil,
      lastChange: 0,
      addresses: [`/ip4/127.0.0.1/tcp/1/p2p/${evil}`],
      root: '"><script>window.__pwned=2</script>',
      patterns: 1,
      gossipPeers: [evil, 'peer-"quoted"'],
      connectedPeers: [evil],
      peersInSync: { [evil]: false },
      lastRounds: [{
        peer: evil,
        role: 'initiator',
        outcome: 'error',
        startedAt: Date.now(),
        ms: 3,
        roundTrips: 1,
        patternsIn: 0,
        patternsOut: 0,
        patternsChanged: 0,
        patternsSkipped: 0,
        bytesIn: 10,
        bytesOut: 20,
        rootsEqual: false,
        error: '<b id="xss">boom</b>'
      }]
    }
    try {
      const page = await newPage()
      await page.goto(`${base}/?token=${TOKEN}`)
      await page.locator('#main[data-loaded="true"]').waitFor()
      assert.equal(await page.locator('#xss').count(), 0)
      assert.equal(await page.evaluate('window.__pwned'), undefined)
      assert.equal(await page.locator('#node-peer-id').textContent(), evil)
      assert.equal(await page.locator('#peers-body tr').nth(0).getAttribute('data-peer'), evil)
      assert.equal(await page.locator('#peers-body tr').nth(0).getAttribute('data-sync'), 'out-of-sync')
      assert.equal(await page.locator('#peers-body tr').nth(1).getAttribute('data-sync'), 'unknown')
      assert.match(await page.locator('#rounds-body .err').innerText(), /<b id="xss">boom<\/b>/)
      await page.close()
    } finally {
      fake = undefined
    }
  })

  it('loaded nothing but its own origin, and logged no errors', () => {
    const foreign = requests.filter(u => !u.startsWith(`${base}/`) && !u.startsWith(`${real}/`))
    assert.deepEqual(foreign, [])
    assert.deepEqual(problems, [])
  })
})
