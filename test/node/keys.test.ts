import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  KeyFileCorruptError, KeyFileMissingError, KeyFilePermissionError, generateKeyFile, loadKeyFile,
  loadOrCreateKey, peerIdFromKey
} from '../../src/node/keys.js'

const posix = process.platform !== 'win32'

describe('key files', () => {
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'engram-keys-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('generate then load gives the same PeerId; file is 0600 in a 0700 dir', async () => {
    const path = join(dir, 'sub', 'node.key')
    const key = await generateKeyFile(path)
    const loaded = await loadKeyFile(path)
    assert.equal(peerIdFromKey(loaded).toString(), peerIdFromKey(key).toString())
    assert.equal(key.type, 'Ed25519')
    assert.equal((await readFile(path)).length, 68)
    if (posix) {
      assert.equal((await stat(path)).mode & 0o777, 0o600)
      assert.equal((await stat(join(dir, 'sub'))).mode & 0o777, 0o700)
    }
  })

  it('refuses to overwrite unless asked', async () => {
    const path = join(dir, 'once.key')
    const first = await generateKeyFile(path)
    await assert.rejects(generateKeyFile(path), { name: 'KeyFileExistsError' })
    assert.equal(peerIdFromKey(await loadKeyFile(path)).toString(), peerIdFromKey(first).toString())
    const second = await generateKeyFile(path, { overwrite: true })
    assert.equal(peerIdFromKey(await loadKeyFile(path)).toString(), peerIdFromKey(second).toString())
    assert.notEqual(peerIdFromKey(second).toString(), peerIdFromKey(first).toString())
    if (posix) assert.equal((await stat(path)).mode & 0o777, 0o600)
  })

  it('missing file: KeyFileMissingError that says how to fix it', async () => {
    const path = join(dir, 'nope.key')
    await assert.rejects(loadKeyFile(path), (err: Error) => {
      assert.ok(err instanceof KeyFileMissingError)
      assert.equal(err.name, 'KeyFileMissingError')
      assert.match(err.message, /engram key generate/)
      assert.ok(err.message.includes(path))
      return true
    })
  })

  it('corrupt file: KeyFileCorruptError', async () => {
    const path = join(dir, 'corrupt.key')
    await writeFile(path, 'this is not a key', { mode: 0o600 })
    await assert.rejects(loadKeyFile(path), (err: Error) => {
      assert.ok(err instanceof KeyFileCorruptError)
      assert.equal(err.name, 'KeyFileCorruptError')
      assert.match(err.message, /not a valid libp2p private key/)
      return true
    })
    // truncated real key
    const good = join(dir, 'truncated.key')
    await generateKeyFile(good)
    await writeFile(good, (await readFile(good)).subarray(0, 30))
    await assert.rejects(loadKeyFile(good), { name: 'KeyFileCorruptError' })
  })

  it('group/world-readable file: KeyFilePermissionError with the chmod fix', { skip: !posix }, async () => {
    const path = join(dir, 'open.key')
    await generateKeyFile(path)
    await chmod(path, 0o644)
    await assert.rejects(loadKeyFile(path), (err: Error) => {
      assert.ok(err instanceof KeyFilePermissionError)
      assert.equal(err.name, 'KeyFilePermissionError')
      assert.ok(err.message.includes(`chmod 600 ${path}`))
      assert.match(err.message, /0644/)
      return true
    })
    await chmod(path, 0o600)
    await loadKeyFile(path)
  })

  it('loadOrCreateKey creates only when asked', async () => {
    const path = join(dir, 'auto', 'node.key')
    await assert.rejects(loadOrCreateKey(path, { create: false }), { name: 'KeyFileMissingError' })
    const made = await loadOrCreateKey(path, { create: true })
    assert.equal(made.created, true)
    const again = await loadOrCreateKey(path, { create: true })
    assert.equal(again.created, false)
    assert.equal(again.peerId.toString(), made.peerId.toString())
    // an existing but broken file is never silently replaced
    await writeFile(path, 'garbage')
    await assert.rejects(loadOrCreateKey(path, { create: true }), { name: 'KeyFileCorruptError' })
  })
})
