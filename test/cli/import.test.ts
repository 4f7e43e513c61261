import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, startCli, type RunningCli } from '../helpers/cli.js'
import { call } from '../helpers/api.js'
import { readFile } from 'node:fs/promises'

describe('bulk writes: POST /v1/patterns and engram pattern import', { timeout: 90_000 }, () => {
  let dir: string
  let data: string
  let node: RunningCli
  let base: string
  let token: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'engram-import-'))
    data = join(dir, 'data')
    await runCli(['key', 'generate', join(dir, 'k.key')])
    node = await startCli(['start', '--data', data, '--key', join(dir, 'k.key'), '--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0'])
    base = JSON.parse(await readFile(join(data, 'api.json'), 'utf8')).url
    token = (await readFile(join(data, 'api.token'), 'utf8')).trim()
  })
  after(async () => {
    await node?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  const status = async (): Promise<{ root: string, patterns: number }> => (await call(base, 'GET', '/v1/status', { token })).json

  it('imports NDJSON in atomic chunks', async () => {
    const lines = Array.from({ length: 1234 }, (_, i) => JSON.stringify({
      key: `bulk/${i}`,
      episodes: [`e${i}`],
      confidence: (i % 10) / 10,
      ...(i % 2 === 0 ? { summary: `s${i}` } : {})
    }))
    await writeFile(join(dir, 'in.ndjson'), lines.join('\n') + '\n\n')
    const r = await runCli(['pattern', 'import', join(dir, 'in.ndjson'), '--data', data, '--json'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(JSON.parse(r.stdout).written, 1234)
    assert.equal((await status()).patterns, 1234)
    const got = JSON.parse((await runCli(['pattern', 'get', 'bulk/42', '--json', '--data', data])).stdout)
    assert.deepEqual([got.episodes, got.confidence, got.summary], [['e42'], 0.2, 's42'])
  })

  it('engram metrics prints the Prometheus text', async () => {
    const r = await runCli(['metrics', '--data', data])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^# TYPE engram_patterns gauge$/m)
    assert.match(r.stdout, /^engram_patterns 1234$/m)
  })

  it('a malformed line stops the import before anything is written', async () => {
    const before = await status()
    await writeFile(join(dir, 'bad.ndjson'), '{"key":"ok/1","confidence":0.5}\n{not json}\n')
    const r = await runCli(['pattern', 'import', join(dir, 'bad.ndjson'), '--data', data])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /bad\.ndjson:2: not JSON/)
    assert.deepEqual(await status(), before)
  })

  it('from stdin, read once as a stream: a bad line stops the import after the chunks before it, and says how many are written', async () => {
    const before = await status()
    const good = Array.from({ length: 25 }, (_, i) => JSON.stringify({ key: `stdin/${i}`, confidence: 0.5 }))
    const r = await runCli(['pattern', 'import', '-', '--data', data, '--chunk', '10'], { stdin: [...good, '{oops', ...good].join('\n') + '\n' })
    assert.equal(r.code, 1, r.stdout)
    assert.match(r.stderr, /-:26: not JSON .*the first 20 patterns are written, none after them/)
    assert.equal((await status()).patterns, before.patterns + 20)
    const ok = await runCli(['pattern', 'import', '-', '--data', data, '--chunk', '10', '--json'], { stdin: good.join('\n') })
    assert.equal(ok.code, 0, ok.stderr)
    assert.equal(JSON.parse(ok.stdout).written, 25)
    assert.equal((await status()).patterns, before.patterns + 25)
  })

  it('a chunk the node refuses stops the import, with two chunks in flight, and the error says exactly how many are written', async () => {
    const before = await status()
    // confidence 7 passes the file's shape check; the node refuses its chunk (lines 21-30) whole
    const lines = Array.from({ length: 60 }, (_, i) => JSON.stringify({ key: `refused/${i}`, confidence: i === 24 ? 7 : 0.5 }))
    await writeFile(join(dir, 'refused.ndjson'), lines.join('\n') + '\n')
    const r = await runCli(['pattern', 'import', join(dir, 'refused.ndjson'), '--data', data, '--chunk', '10'])
    assert.equal(r.code, 1, r.stdout)
    const m = /confidence.*\(lines 21-30, not written; (\d+) patterns are written/.exec(r.stderr)
    assert.ok(m !== null, r.stderr)
    const written = Number(m[1])
    // the chunks before it, and at most the one sent while it was in flight
    assert.ok(written === 20 || written === 30, r.stderr)
    assert.equal((await status()).patterns, before.patterns + written)
    const got = await call(base, 'GET', `/v1/patterns/${encodeURIComponent('refused/24')}`, { token })
    assert.equal(got.status, 404)
  })

  it('a line that is not UTF-8, or holds a lone surrogate, is named and nothing is written; a BOM-led key imports exactly', async () => {
    const before = await status()
    const ok = Buffer.from('{"key":"utf/1","confidence":0.5}\n')
    await writeFile(join(dir, 'latin1.ndjson'), Buffer.concat([ok, Buffer.from('{"key":"caf'), Buffer.from([0xe9]), Buffer.from('","confidence":0.5}\n')]))
    const latin1 = await runCli(['pattern', 'import', join(dir, 'latin1.ndjson'), '--data', data])
    assert.equal(latin1.code, 1)
    assert.match(latin1.stderr, /latin1\.ndjson:2: not valid UTF-8/)
    await writeFile(join(dir, 'lone.ndjson'), '{"key":"utf/1","confidence":0.5}\n{"key":"utf/2","episodes":["e\\ud800"],"confidence":0.5}\n')
    const lone = await runCli(['pattern', 'import', join(dir, 'lone.ndjson'), '--data', data])
    assert.equal(lone.code, 1)
    assert.match(lone.stderr, /lone\.ndjson:2: .*lone surrogate/)
    assert.deepEqual(await status(), before)
    await writeFile(join(dir, 'bom.ndjson'), '{"key":"\uFEFFutf/bom","episodes":["\u{1F600}"],"confidence":0.5}\r\n')
    const bom = await runCli(['pattern', 'import', join(dir, 'bom.ndjson'), '--data', data, '--json'])
    assert.equal(bom.code, 0, bom.stderr)
    const got = await call(base, 'GET', `/v1/patterns/${encodeURIComponent('\uFEFFutf/bom')}`, { token })
    assert.equal(got.status, 200, got.text)
    assert.deepEqual([got.json.key, got.json.episodes], ['\uFEFFutf/bom', ['\u{1F600}']])
  })

  it('an invalid pattern rejects its whole batch and changes nothing', async () => {
    const before = await status()
    const res = await call(base, 'POST', '/v1/patterns', { token, body: { patterns: [{ key: 'x/1', confidence: 0.5 }, { key: 'x/2', confidence: 7 }] } })
    assert.equal(res.status, 400)
    assert.match(res.text, /patterns\[1\].*confidence/)
    const missing = await call(base, 'POST', '/v1/patterns', { token, body: { patterns: [{ key: 'x/3', episodes: ['e'] }] } })
    assert.equal(missing.status, 400)
    const overLimit = Array.from({ length: 1001 }, (_, i) => ({ key: `y/${i}`, confidence: 0.1 }))
    const tooMany = await call(base, 'POST', '/v1/patterns', { token, body: { patterns: overLimit } })
    assert.equal(tooMany.status, 400)
    const unknown = await call(base, 'POST', '/v1/patterns', { token, body: { patterns: [{ key: 'z', confidence: 0.1, colour: 'red' }] } })
    assert.equal(unknown.status, 400)
    assert.deepEqual(await status(), before)
  })
})
