/**
 * A small real network on one Linux machine, built from network namespaces:
 *
 *   site A: egn-sa (bridge br0) ── hosts egn-h1..h4     10.77.0.11-14/24
 *   site B: egn-sb (bridge br0) ── hosts egn-h5..h8     10.77.0.15-18/24
 *   WAN:    TAP egn-wa in egn-sa <── wan.py ──> TAP egn-wb in egn-sb
 *
 * The two sites are one Ethernet segment joined only through the WAN, whose frames a
 * userspace forwarder (wan.py) delays, drops at random, or drops all (a partition). A host
 * can also be cut off alone by taking its bridge port down. Every name starts with egn-,
 * so leftovers of an aborted run are found and removed. Addresses exist only inside these
 * namespaces.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface, type Interface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { sh, sleep } from './sh.js'

export const PREFIX = 'egn-'
const WAN_SCRIPT = fileURLToPath(new URL('./wan.py', import.meta.url))

export interface Host {
  index: number
  ns: string
  ip: string
  site: 'A' | 'B'
  /** this host's port on its site bridge (down = host cut off) */
  port: string
}

export async function requirements (): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'needs Linux network namespaces'
  if (process.getuid?.() !== 0) return 'needs root (ip netns, veth, bridges, /dev/net/tun)'
  for (const [cmd, args] of [['ip', ['-V']], ['python3', ['--version']]] as const) {
    const r = await sh(cmd, [...args], { allowFail: true }).catch(() => ({ code: 127 }))
    if (r.code !== 0) return `needs ${cmd} (iproute2 / python3)`
  }
  const probe = `${PREFIX}probe`
  const made = await sh('ip', ['netns', 'add', probe], { allowFail: true })
  if (made.code !== 0) return `cannot create network namespaces here: ${made.stderr.trim()}`
  await sh('ip', ['netns', 'del', probe], { allowFail: true })
  const tun = await sh('test', ['-c', '/dev/net/tun'], { allowFail: true })
  if (tun.code !== 0) return 'needs /dev/net/tun for the WAN link'
  return undefined
}

/** Removes every egn- namespace (killing what runs in it), link and WAN process. */
export async function cleanupLeftovers (): Promise<void> {
  await sh('pkill', ['-9', '-f', WAN_SCRIPT], { allowFail: true })
  const list = await sh('ip', ['netns', 'list'], { allowFail: true })
  for (const line of list.stdout.split('\n')) {
    const ns = line.split(' ')[0] ?? ''
    if (!ns.startsWith(PREFIX)) continue
    const pids = await sh('ip', ['netns', 'pids', ns], { allowFail: true })
    for (const pid of pids.stdout.split(/\s+/).filter(p => /^\d+$/.test(p))) {
      try { process.kill(Number(pid), 'SIGKILL') } catch {}
    }
    await sh('ip', ['netns', 'del', ns], { allowFail: true })
  }
  const links = await sh('ip', ['-o', 'link', 'show'], { allowFail: true })
  for (const m of links.stdout.matchAll(/^\d+: (egn-[^:@]+)/gm)) await sh('ip', ['link', 'del', m[1] as string], { allowFail: true })
}

export class WanLink {
  private readonly lines: Interface
  private readonly waiting: Array<(line: string) => void> = []

  private constructor (private readonly proc: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: proc.stdout })
    this.lines.on('line', line => { this.waiting.shift()?.(line) })
  }

  static async start (a: string, b: string): Promise<WanLink> {
    const proc = spawn('python3', [WAN_SCRIPT, a, b], { stdio: ['pipe', 'pipe', 'pipe'] })
    const link = new WanLink(proc)
    const ready = await link.next(10_000)
    if (ready !== 'ready') throw new Error(`WAN emulator did not start: ${ready}`)
    return link
  }

  private async next (timeoutMs = 5000): Promise<string> {
    return await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('WAN emulator did not answer')), timeoutMs)
      this.waiting.push(line => { clearTimeout(t); resolve(line) })
    })
  }

  private async command (cmd: string): Promise<string> {
    const answer = this.next()
    this.proc.stdin.write(cmd + '\n')
    return await answer
  }

  async set (delayMs: number, loss: number): Promise<void> { await this.command(`set ${delayMs} ${loss}`) }
  async cut (): Promise<void> { await this.command('cut') }
  async heal (): Promise<void> { await this.command('heal') }

  stop (): void {
    this.proc.kill('SIGKILL')
    this.lines.close()
  }
}

export class Topology {
  private constructor (readonly hosts: Host[], readonly wan: WanLink) {}

  /** Builds two sites of `perSite` hosts each (removing leftovers of an earlier run first). */
  static async create (perSite = 4): Promise<Topology> {
    await cleanupLeftovers()
    const ip = (...a: string[]): Promise<unknown> => sh('ip', a)
    for (const site of ['sa', 'sb']) {
      await ip('netns', 'add', PREFIX + site)
      await ip('-n', PREFIX + site, 'link', 'add', 'br0', 'type', 'bridge')
      await ip('-n', PREFIX + site, 'link', 'set', 'br0', 'up')
    }
    const hosts: Host[] = []
    for (let i = 1; i <= 2 * perSite; i++) {
      const site = i <= perSite ? 'A' : 'B'
      const siteNs = PREFIX + (site === 'A' ? 'sa' : 'sb')
      const ns = `${PREFIX}h${i}`
      const port = `${PREFIX}h${i}p`
      await ip('netns', 'add', ns)
      await ip('link', 'add', `${PREFIX}h${i}e`, 'type', 'veth', 'peer', 'name', port)
      await ip('link', 'set', `${PREFIX}h${i}e`, 'netns', ns)
      await ip('-n', ns, 'link', 'set', `${PREFIX}h${i}e`, 'name', 'eth0')
      await ip('link', 'set', port, 'netns', siteNs)
      await ip('-n', siteNs, 'link', 'set', port, 'master', 'br0')
      await ip('-n', siteNs, 'link', 'set', port, 'up')
      const addr = `10.77.0.${10 + i}`
      await ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0')
      await ip('-n', ns, 'link', 'set', 'eth0', 'up')
      await ip('-n', ns, 'link', 'set', 'lo', 'up')
      hosts.push({ index: i, ns, ip: addr, site, port })
    }
    const wan = await WanLink.start(`${PREFIX}wa`, `${PREFIX}wb`)
    for (const [tap, site] of [[`${PREFIX}wa`, 'sa'], [`${PREFIX}wb`, 'sb']] as const) {
      await ip('link', 'set', tap, 'netns', PREFIX + site)
      await ip('-n', PREFIX + site, 'link', 'set', tap, 'master', 'br0')
      await ip('-n', PREFIX + site, 'link', 'set', tap, 'up')
    }
    return new Topology(hosts, wan)
  }

  /** Cuts one host off (its bridge port down) or brings it back. */
  async isolate (host: Host, cut: boolean): Promise<void> {
    await sh('ip', ['-n', PREFIX + (host.site === 'A' ? 'sa' : 'sb'), 'link', 'set', host.port, cut ? 'down' : 'up'])
    if (!cut) await sleep(200)
  }

  /** Caps the bandwidth towards a host (tbf on its bridge port), or lifts the cap. */
  async limitRate (host: Host, rate: string | undefined): Promise<void> {
    const siteNs = PREFIX + (host.site === 'A' ? 'sa' : 'sb')
    await sh('tc', ['-n', siteNs, 'qdisc', 'del', 'dev', host.port, 'root'], { allowFail: true })
    if (rate !== undefined) await sh('tc', ['-n', siteNs, 'qdisc', 'add', 'dev', host.port, 'root', 'tbf', 'rate', rate, 'burst', '32kbit', 'latency', '400ms'])
  }

  async destroy (): Promise<void> {
    this.wan.stop()
    await cleanupLeftovers()
  }
}
