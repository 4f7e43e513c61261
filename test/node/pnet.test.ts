/** Private networks: only nodes holding the same swarm key can connect at all. */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createEngramLibp2p, generateSwarmKey, parseSwarmKey, readSwarmKeyFile, writeSwarmKeyFile } from '../../src/node/libp2p.js'
import { LOOPBACK, addrOf, startTestNode, stopAll } from '../helpers/nodes.js'
import { waitFor } from '../helpers/wait.js'
import type { EngramLibp2p } from '../../src/node/libp2p.js'

describe('private network (pnet)', { timeout: 30_000 }, () => {
  const nodes: EngramLibp2p[] = []
  after(async () => { await stopAll(nodes) })

  it('same key connects, a different key cannot', async () => {
    const key = generateSwarmKey()
    const other = generateSwarmKey()
    const a = await startTestNode({ swarmKey: key })
    nodes.push(a)
    const b = await startTestNode({ swarmKey: key, join: [addrOf(a)] })
    nodes.push(b)
    // no join: the test dials, so we see the failure ourselves
    const c = await startTestNode({ swarmKey: other })
    nodes.push(c)

    await waitFor(() => a.getConnections(b.peerId).length > 0, { timeout: 5000, message: 'b to connect to a' })

    // a wrong key fails either at once (ECONNRESET) or, when the garbled bytes read as a long
    // frame length, only at the upgrade timeout; a short dial timeout covers both
    await assert.rejects(c.dial(multiaddr(addrOf(a)), { signal: AbortSignal.timeout(1500) }))
    await assert.rejects(a.dial(multiaddr(addrOf(c)), { signal: AbortSignal.timeout(1500) }))
    assert.equal(a.getConnections(c.peerId).length, 0)
    assert.equal(c.getConnections().length, 0)
  })

  it('a node without a key cannot join a private network', async () => {
    const a = await startTestNode({ swarmKey: generateSwarmKey() })
    nodes.push(a)
    const open = await startTestNode()
    nodes.push(open)
    await assert.rejects(open.dial(multiaddr(addrOf(a)), { signal: AbortSignal.timeout(1500) }))
    assert.equal(a.getConnections(open.peerId).length, 0)
  })
})

describe('swarm key files', () => {
  it('write, read back, refuse overwrite; malformed keys are named errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'engram-psk-'))
    try {
      const path = join(dir, 'swarm.key')
      const written = await writeSwarmKeyFile(path)
      assert.equal(written.length, 95)
      assert.deepEqual(await readSwarmKeyFile(path), written)
      if (process.platform !== 'win32') assert.equal((await stat(path)).mode & 0o777, 0o600)
      await assert.rejects(writeSwarmKeyFile(path), { name: 'SwarmKeyError' })
      await assert.rejects(readSwarmKeyFile(join(dir, 'missing.key')), { name: 'SwarmKeyError' })

      // a hand-edited file (CRLF, upper case, trailing newline) is accepted and normalised
      const text = (await readFile(path, 'utf8')).split('\n')
      await writeFile(path, `${text[0]}\r\n${text[1]}\r\n${text[2]?.toUpperCase()}\r\n`)
      assert.deepEqual(await readSwarmKeyFile(path), written)

      for (const bad of ['', 'hello', '/key/swarm/psk/1.0.0/\n/base64/\nabc', `/key/swarm/psk/1.0.0/\n/base16/\n${'ab'.repeat(31)}`]) {
        assert.throws(() => parseSwarmKey(new TextEncoder().encode(bad)), { name: 'SwarmKeyError' })
      }
      // createEngramLibp2p validates before libp2p does (whose error is a bare "invalid psk")
      await assert.rejects(createEngramLibp2p({
        privateKey: await generateKeyPair('Ed25519'),
        listen: [LOOPBACK],
        swarmKey: new TextEncoder().encode('nope'),
        start: false
      }), { name: 'SwarmKeyError' })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
