/**
 * The responder's side of a reconciliation session (reconcile.ts has the protocol and the
 * initiator): answers a Hello and each Request from its own index, within the limits, and only
 * for the subtrees its replies offered.
 */
import { MERKLE_DEPTH, childPrefixes, isValidPrefix, type Prefix } from './merkle.js'
import { compareBytes } from './bytes.js'
import { RECONCILE_VERSION, type ChildHashes, type HelloMsg, type ReplyMsg, type RequestMsg } from './reconcile-messages.js'
import {
  DEFAULT_RECONCILE_LIMITS, ProtocolViolationError, childHash, diffProbe, keyHashHasPrefix, wireEntries,
  type IndexView, type ReconcileLimits, type SendInstruction
} from './reconcile.js'

export interface ResponderStep {
  /** patterns to send (before `reply`) */
  send: SendInstruction
  /** sent after `send`; the end reply once the initiator said done */
  reply: ReplyMsg | undefined
  done: boolean
}

export class Responder {
  private state: 'await-hello' | 'await-request' | 'done' = 'await-hello'
  private requests = 0
  /**
   * Subtrees our replies offered (children sent) that no request has named yet. A request may
   * name only these, each once: so every prefix it names is one the session reached, no two
   * overlap, and a whole session costs at most one walk of the tree and its listings, however
   * the peer builds its requests.
   */
  private readonly offered = new Set<Prefix>()

  constructor (private readonly index: IndexView, private readonly limits: ReconcileLimits = DEFAULT_RECONCILE_LIMITS) {}

  get done (): boolean {
    return this.state === 'done'
  }

  /** Pushes from the initiator are welcome between its hello and its done. */
  acceptsPatterns (): boolean {
    return this.state === 'await-request'
  }

  onHello (hello: HelloMsg): ResponderStep {
    if (this.state !== 'await-hello') throw new ProtocolViolationError('hello out of order')
    if (hello.version !== RECONCILE_VERSION) throw new ProtocolViolationError(`unsupported reconcile version ${hello.version}`)
    const send = { keyHashes: [], prefixes: [] }
    if (compareBytes(hello.root, this.index.root()) === 0) {
      this.state = 'done'
      return { send, reply: { type: 'reply', inSync: true, children: [], need: [] }, done: true }
    }
    this.state = 'await-request'
    return { send, reply: { type: 'reply', inSync: false, children: [this.childrenOf('')], need: [] }, done: false }
  }

  onRequest (req: RequestMsg): ResponderStep {
    if (this.state !== 'await-request') throw new ProtocolViolationError('request out of order')
    if (++this.requests > this.limits.maxRequests) throw new ProtocolViolationError('too many requests in one session')
    if (req.done) {
      if (req.descend.length + req.probes.length + req.pullPrefixes.length > 0) throw new ProtocolViolationError('done request carries data')
      this.state = 'done'
      return { send: { keyHashes: [], prefixes: [] }, reply: { type: 'reply', inSync: false, children: [], need: [], end: true }, done: true }
    }
    // a request that is not done names something: one that names nothing moves the session nowhere
    if (req.descend.length + req.probes.length + req.pullPrefixes.length === 0) throw new ProtocolViolationError('request names nothing and is not done')
    if (req.descend.length > this.limits.maxDescend || req.pullPrefixes.length > this.limits.maxPullPrefixes ||
      req.probes.reduce((n, p) => n + p.entries.length, 0) > Math.max(this.limits.maxProbeEntries, req.probes[0]?.entries.length ?? 0)) {
      throw new ProtocolViolationError('request exceeds limits')
    }
    for (const p of [...req.descend, ...req.pullPrefixes, ...req.probes.map(x => x.prefix)]) {
      if (!isValidPrefix(p)) throw new ProtocolViolationError(`invalid prefix ${JSON.stringify(p)}`)
      if (!this.offered.delete(p)) throw new ProtocolViolationError(`prefix ${JSON.stringify(p)} was not offered by a reply, or was named before`)
    }
    const children = req.descend.map(p => {
      if (p.length >= MERKLE_DEPTH) throw new ProtocolViolationError(`cannot descend below leaf ${p}`)
      return this.childrenOf(p)
    })
    const send: SendInstruction = { keyHashes: [], prefixes: [...req.pullPrefixes] }
    const need: Uint8Array[] = []
    for (const probe of req.probes) {
      for (const e of probe.entries) {
        if (!keyHashHasPrefix(e.keyHash, probe.prefix)) throw new ProtocolViolationError('probe entry outside its prefix')
      }
      const { ours, theirs } = diffProbe(wireEntries(this.index.entries(probe.prefix)), probe.entries)
      send.keyHashes.push(...ours)
      need.push(...theirs)
    }
    return { send, reply: { type: 'reply', inSync: false, children, need }, done: false }
  }

  private childrenOf (prefix: Prefix): ChildHashes {
    for (const c of childPrefixes(prefix)) this.offered.add(c)
    const kids = this.index.children(prefix)
    return { parent: prefix, hashes: kids.map(k => childHash(k.hash)), counts: kids.map(k => k.count) }
  }
}
