/**
 * One parser per setting: a value is refused the same way as a CLI flag, an ENGRAM_* variable,
 * a config.json entry and a library option, and a refused value creates nothing.
 * (The real CLI runs of the same values are in test/cli/start-all-or-nothing.test.ts.)
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEngramNode } from '../../src/index.js'
import { EngramNode } from '../../src/node/engram-node.js'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { envName, flagName, readConfigFile, resolveConfig } from '../../src/cli/config.js'
import { InvalidSettingError, type NodeSettings } from '../../src/settings/node-settings.js'
import { checkNodeOptions } from '../../src/settings/library-options.js'

/** The bad values of the brief, as typed on a command line / in a variable, and as a config.json value. */
const BAD_VALUES: Array<{ key: keyof NodeSettings, typed: string, json: unknown, reason: RegExp }> = [
  { key: 'interval', typed: '0.01', json: 0.01, reason: /expected a number from 0\.05 to 86400/ },
  { key: 'interval', typed: 'soon', json: 'soon', reason: /expected a number from 0\.05 to 86400/ },
  { key: 'cluster', typed: 'bad name!/x', json: 'bad name!/x', reason: /letters, digits/ },
  { key: 'fanout', typed: 'many', json: 'many', reason: /expected a whole number from 0 to 64, or auto/ },
  { key: 'fanout', typed: '65', json: 65, reason: /expected a whole number from 0 to 64, or auto/ },
  { key: 'listen', typed: 'localhost:4001', json: ['localhost:4001'], reason: /not a multiaddr: localhost:4001/ },
  { key: 'api', typed: '0.0.0.0', json: '0.0.0.0', reason: /expected host:port/ },
  { key: 'logLevel', typed: 'loud', json: 'loud', reason: /one of silent, error, info, debug, trace/ }
]

const exists = async (p: string): Promise<boolean> => await stat(p).then(() => true, () => false)

describe('settings: one parser for flags, ENGRAM_* variables and config.json', () => {
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'engram-settings-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  for (const { key, typed, json, reason } of BAD_VALUES) {
    it(`refuses ${key} ${JSON.stringify(typed)} from every source, naming the source`, async () => {
      // a flag as commander hands it over (repeatable flags collect into a list)
      const flagValue = key === 'listen' ? [typed] : typed
      assert.throws(() => resolveConfig({ [key]: flagValue }, {}, {}), (err: any) => {
        assert.ok(err instanceof InvalidSettingError, String(err))
        assert.equal(err.name, 'InvalidSettingError')
        assert.equal(err.exitCode, 2, 'a bad flag is a usage error')
        assert.ok(err.message.startsWith(`flag ${flagName(key)}: ${key}: `), err.message)
        assert.match(err.message, reason)
        return true
      })
      assert.throws(() => resolveConfig({}, { [envName(key)]: typed }, {}), (err: any) => {
        assert.ok(err instanceof InvalidSettingError, String(err))
        assert.equal(err.exitCode, 1)
        assert.ok(err.message.startsWith(`environment ${envName(key)}: ${key}: `), err.message)
        assert.match(err.message, reason)
        return true
      })
      const file = join(dir, `config-${key}-${typed.replace(/\W/g, '_')}.json`)
      await writeFile(file, JSON.stringify({ [key]: json }))
      await assert.rejects(readConfigFile(file), (err: any) => {
        assert.ok(err instanceof InvalidSettingError, String(err))
        assert.equal(err.exitCode, 1)
        assert.ok(err.message.startsWith(`${file}: ${key}: `), err.message)
        assert.match(err.message, reason)
        return true
      })
      // a value that reached resolveConfig from the file some other way is checked again there
      assert.throws(() => resolveConfig({}, {}, { [key]: json } as any), { name: 'InvalidSettingError', message: new RegExp(`^config\\.json: ${key}: `) })
    })
  }
})

describe('library: createEngramNode checks its options like the CLI checks its settings', { timeout: 60_000 }, () => {
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'engram-libsettings-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  const cases: Array<{ name: string, opts: Record<string, unknown>, option: string, sameAs: [keyof NodeSettings, unknown] }> = [
    { name: 'cluster "bad name!/x"', opts: { cluster: 'bad name!/x' }, option: 'cluster', sameAs: ['cluster', 'bad name!/x'] },
    { name: 'intervalMs 10', opts: { intervalMs: 10 }, option: 'intervalMs', sameAs: ['interval', 0.01] },
    { name: 'listen ["nonsense"]', opts: { listen: ['nonsense'] }, option: 'listen', sameAs: ['listen', ['nonsense']] },
    { name: 'fanout 65', opts: { fanout: 65 }, option: 'fanout', sameAs: ['fanout', 65] }
  ]

  for (const { name, opts, option, sameAs: [key, value] } of cases) {
    it(`rejects ${name} with InvalidSettingError and creates nothing`, async () => {
      const dataDir = join(dir, `data-${option}`)
      const keyFile = join(dir, `keys-${option}`, 'node.key')
      // the CLI's reason for the same value, from its parser
      let cliReason = ''
      assert.throws(() => resolveConfig({}, {}, { [key]: value } as any), (err: any) => {
        cliReason = err.message.slice(`config.json: ${key}: `.length)
        return true
      })
      assert.notEqual(cliReason, '')
      await assert.rejects(createEngramNode({ dataDir, keyFile, ...opts }), (err: any) => {
        assert.equal(err.name, 'InvalidSettingError')
        assert.ok(err instanceof InvalidSettingError)
        assert.equal(err.message, `option ${option}: ${cliReason}`, 'the same reason as the CLI gives')
        return true
      })
      // with a key given, EngramNode.create (the lower-level entry) refuses it too
      await assert.rejects(EngramNode.create({ dataDir, privateKey: await generateKeyPair('Ed25519'), ...opts }), { name: 'InvalidSettingError' })
      assert.equal(await exists(dataDir), false, 'no data dir')
      assert.equal(await exists(keyFile), false, 'no key file')
      assert.equal(await exists(join(dir, `keys-${option}`)), false, 'no key dir')
    })
  }

  it('nothing at all was created by the refused options', async () => {
    assert.deepEqual(await readdir(dir), [])
  })

  it('accepts the values the CLI accepts (0 turns the timer off in the library only)', () => {
    checkNodeOptions({ cluster: 'lab-1.a_b', intervalMs: 50, fanout: 64, listen: ['/ip4/127.0.0.1/tcp/0'] })
    checkNodeOptions({ intervalMs: 0, fanout: 'auto' })
    assert.throws(() => { checkNodeOptions({ intervalMs: 86_400_001 }) }, { name: 'InvalidSettingError', message: /^option intervalMs: / })
    assert.throws(() => { checkNodeOptions({ fanout: 'Auto' as any }) }, { name: 'InvalidSettingError', message: /^option fanout: / })
    assert.throws(() => { checkNodeOptions({ connectSync: 'no' as any }) }, { name: 'InvalidSettingError', message: /^option connectSync: / })
  })

  it('checks the gossip limits a library user tunes: whole numbers, known names only', () => {
    checkNodeOptions({ gossipLimits: { maxConcurrentSessions: 2, sessionCooldownMs: 0, pushQuota: { newKeysPerMinute: 10, bytesPerMinute: 1024 } } })
    const refused = (limits: unknown, message: RegExp): void => {
      assert.throws(() => { checkNodeOptions({ gossipLimits: limits as any }) }, { name: 'InvalidSettingError', message })
    }
    refused({ maxConcurrentSessions: 0 }, /^option gossipLimits: maxConcurrentSessions: expected a whole number >= 1, got 0/)
    refused({ messageTimeoutMs: 1.5 }, /messageTimeoutMs: expected a whole number/)
    refused({ sessionCooldownMs: -1 }, /sessionCooldownMs: expected a whole number >= 0/)
    refused({ pushQuota: { newKeysPerMinute: 10 } }, /pushQuota\.bytesPerMinute: expected a whole number >= 1, got undefined/)
    refused({ maxConcurentSessions: 2 }, /unknown limit maxConcurentSessions \(known: sessionTimeoutMs, /)
    refused('fast', /expected an object/)
  })
})
