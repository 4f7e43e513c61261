import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { DEFAULTS, envName, readConfigFile, resolveConfig } from '../../src/cli/config.js'
import { configureLogging } from '../../src/daemon/logging.js'

describe('configuration precedence: flags > ENGRAM_* env > config.json > defaults', () => {
  const dirs: string[] = []
  after(async () => { await Promise.all(dirs.map(async d => { await rm(d, { recursive: true, force: true }) })) })

  it('takes each setting from the highest source that has it', () => {
    const { config, sources } = resolveConfig(
      { fanout: 7 },
      { ENGRAM_FANOUT: '3', ENGRAM_INTERVAL: '5', ENGRAM_JOIN: '/ip4/127.0.0.1/tcp/4001, /ip4/127.0.0.1/tcp/4002', ENGRAM_MDNS: 'false' },
      { fanout: 1, interval: 30, cluster: 'lab', mdns: true }
    )
    assert.equal(config.fanout, 7)
    assert.equal(sources.fanout, 'flag')
    assert.equal(config.interval, 5)
    assert.equal(sources.interval, 'env')
    assert.deepEqual(config.join, ['/ip4/127.0.0.1/tcp/4001', '/ip4/127.0.0.1/tcp/4002'])
    assert.equal(config.mdns, false)
    assert.equal(config.cluster, 'lab')
    assert.equal(sources.cluster, 'config')
    assert.equal(config.api, DEFAULTS.api)
    assert.equal(sources.api, 'default')
    assert.equal(envName('swarmKey'), 'ENGRAM_SWARM_KEY')
    assert.equal(envName('logLevel'), 'ENGRAM_LOG_LEVEL')
  })

  it('fanout is auto by default, and auto or a whole number from any source', () => {
    assert.equal(resolveConfig({}, {}, {}).config.fanout, 'auto')
    assert.equal(resolveConfig({}, { ENGRAM_FANOUT: 'auto' }, { fanout: 3 }).config.fanout, 'auto')
    assert.equal(resolveConfig({}, { ENGRAM_FANOUT: '6' }, { fanout: 'auto' }).config.fanout, 6)
    assert.equal(resolveConfig({}, {}, { fanout: 0 }).config.fanout, 0)
    assert.throws(() => resolveConfig({}, { ENGRAM_FANOUT: 'Auto' }, {}), /fanout: expected a whole number from 0 to 64, or auto/)
    assert.throws(() => resolveConfig({}, { ENGRAM_FANOUT: '65' }, {}), /fanout: expected a whole number from 0 to 64, or auto/)
  })

  it('rejects bad values naming their source', () => {
    assert.throws(() => resolveConfig({}, { ENGRAM_FANOUT: 'lots' }, {}), /environment ENGRAM_FANOUT: fanout/)
    assert.throws(() => resolveConfig({}, { ENGRAM_API: '0.0.0.0' }, {}), /ENGRAM_API/)
    assert.throws(() => resolveConfig({}, { ENGRAM_LOG_LEVEL: 'loud' }, {}), /logLevel/)
  })

  it('reads and validates config.json', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'engram-config-'))
    dirs.push(dir)
    const file = join(dir, 'config.json')
    assert.deepEqual(await readConfigFile(join(dir, 'absent.json')), {})
    await writeFile(file, JSON.stringify({ fanout: 2, listen: ['/ip4/127.0.0.1/tcp/4100'], logJson: true }))
    assert.deepEqual(await readConfigFile(file), { fanout: 2, listen: ['/ip4/127.0.0.1/tcp/4100'], logJson: true })
    await writeFile(file, JSON.stringify({ fanuot: 2 }))
    await assert.rejects(readConfigFile(file), { name: 'CliError', message: /unknown setting "fanuot"/ })
    await writeFile(file, JSON.stringify({ fanout: 1.5 }))
    await assert.rejects(readConfigFile(file), /fanout: expected a whole number/)
    await writeFile(file, '{ not json')
    await assert.rejects(readConfigFile(file), /not valid JSON/)
    await writeFile(file, JSON.stringify({ listen: ['nonsense'] }))
    await assert.rejects(readConfigFile(file), /not a multiaddr/)
  })
})

describe('logging', () => {
  it('writes JSON lines with level and component when asked', () => {
    const lines: string[] = []
    const saved = process.env.DEBUG
    delete process.env.DEBUG
    try {
      configureLogging({ level: 'info', json: true, write: l => lines.push(l) })
      const log = logger('engram:testcomp')
      log('hello %s', 'world')
      log.error('bad thing %d', 42)
      log.trace('too fine to show at info')
    } finally {
      if (saved !== undefined) process.env.DEBUG = saved
      configureLogging({ level: 'silent', json: false })
    }
    const parsed = lines.map(l => JSON.parse(l))
    assert.equal(parsed.length, 2)
    assert.deepEqual(parsed.map(p => [p.level, p.component, p.msg]), [['info', 'engram:testcomp', 'hello world'], ['error', 'engram:testcomp', 'bad thing 42']])
    assert.ok(parsed.every(p => !Number.isNaN(Date.parse(p.time))))
  })
})
