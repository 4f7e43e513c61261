/**
 * Local checks `engram start` makes before the node touches the network: a start either
 * succeeds whole or fails before it dialled or announced anything (and the error names the
 * setting that fixes it).
 */
import { createServer } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { CliError } from './errors.js'

/** Whether host:port can be bound now (EADDRINUSE, EACCES, EADDRNOTAVAIL: no). */
export async function tryBind (host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return await new Promise(resolve => {
    const server = createServer()
    server.once('error', (err: NodeJS.ErrnoException) => { resolve(err) })
    server.listen({ host, port, exclusive: true }, () => {
      server.close(() => { resolve(undefined) })
    })
  })
}

/**
 * Every fixed TCP port among the listen addresses must be free: libp2p would find out only
 * after its other parts started (and discovery dialled). `source` names where they came from.
 */
export async function checkListenAddrs (listen: string[], source: string): Promise<void> {
  for (const addr of listen) {
    const parts = multiaddr(addr).getComponents()
    const ip = parts.find(c => c.name === 'ip4' || c.name === 'ip6')
    const tcp = parts.find(c => c.name === 'tcp')
    if (ip?.value === undefined || tcp?.value === undefined || tcp.value === '0') continue
    const err = await tryBind(ip.value, Number(tcp.value))
    if (err === undefined) continue
    const next = Number(tcp.value) + 1
    const hint = err.code === 'EADDRINUSE'
      ? `another process (another engram node?) listens there; pick another with --listen /${ip.name}/${ip.value}/tcp/${next}`
      : `cannot listen there (${err.code ?? err.message}); pick another address with --listen`
    throw new CliError(`listen address ${addr} (from ${source}): ${hint}`)
  }
}
