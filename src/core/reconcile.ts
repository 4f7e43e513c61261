/**
 * Sans-IO Merkle reconciliation: the two sides of a session as pure state machines
 * fed with messages (the initiator here, the responder in reconcile-responder.ts). They
 * decide what to ask and what patterns to send; moving bytes, reading the store and merging
 * are the caller's job.
 *
 * Initiator -> Hello(root, count). Responder -> Reply(inSync) if roots match (one round
 * trip), else Reply(children of the root). Then, level by level, the initiator compares
 * child hashes with its own and, for each differing child, either
 *   - pushes everything under it (the responder holds nothing there),
 *   - pulls everything under it (we hold nothing there),
 *   - probes it (a leaf, or small enough): sends its listing, the responder sends back
 *     what differs and names what it needs,
 *   - or descends into it.
 * All differing prefixes of a level go in one Request. Ends with Request(done), answered by
 * Reply(end) once the responder merged everything pushed to it, so the stream can carry the
 * next session.
 */
import { MERKLE_DEPTH, childPrefixes, toHex, walkListings, type Prefix, type NodeSummary, type LeafEntry } from './merkle.js'
import { compareBytes } from './bytes.js'
import {
  CHILD_HASH_BYTES, RECONCILE_VERSION, WIRE_HASH_BYTES, type ChildHashes, type HelloMsg, type Probe, type ReplyMsg, type RequestMsg, type WireEntry
} from './reconcile-messages.js'

/** What the reconciler reads of the local Merkle index. */
export interface IndexView {
  readonly size: number
  root(): Uint8Array
  node(prefix: Prefix): NodeSummary
  children(prefix: Prefix): NodeSummary[]
  entries(prefix: Prefix): LeafEntry[]
  /** the key hashes under a prefix, in order, made as they are read (for subtrees of any size) */
  keyHashes(prefix: Prefix): Iterable<Uint8Array>
  /** whether a digest is held for a key hash */
  has(keyHash: Uint8Array): boolean
}

export interface ReconcileLimits {
  /** subtrees holding at most this many patterns on both sides together are probed, not descended */
  probeThreshold: number
  /** parents per Request.descend */
  maxDescend: number
  /** listing entries per Request, all probes together */
  maxProbeEntries: number
  /** prefixes per Request.pullPrefixes */
  maxPullPrefixes: number
  /** requests in one session */
  maxRequests: number
}

export const DEFAULT_RECONCILE_LIMITS: ReconcileLimits = {
  probeThreshold: 8,
  maxDescend: 2048,
  maxProbeEntries: 16_384,
  maxPullPrefixes: 4096,
  maxRequests: 4096
}

/** A peer broke the protocol: wrong order, unsolicited data, or values outside the rules. */
export class ProtocolViolationError extends Error {
  override name = 'ProtocolViolationError'
}

/** Patterns to send to the peer: by key hash, and all patterns under prefixes. */
export interface SendInstruction {
  keyHashes: Uint8Array[]
  prefixes: Prefix[]
}

export interface InitiatorStep {
  /** patterns to push to the responder before `request` */
  push: SendInstruction
  /** next request; undefined when the session ended without one (roots were equal) */
  request: RequestMsg | undefined
  done: boolean
}

export function truncate (hash: Uint8Array): Uint8Array {
  return hash.subarray(0, WIRE_HASH_BYTES)
}

function sameWire (a: Uint8Array, b: Uint8Array): boolean {
  return compareBytes(truncate(a), truncate(b)) === 0
}

export function childHash (hash: Uint8Array): Uint8Array {
  return hash.subarray(0, CHILD_HASH_BYTES)
}

function sameChild (a: Uint8Array, b: Uint8Array): boolean {
  return compareBytes(childHash(a), childHash(b)) === 0
}

export function wireEntries (entries: LeafEntry[]): WireEntry[] {
  return entries.map(e => ({ keyHash: e.keyHash, digest: truncate(e.digest) }))
}

/** Splits two sorted listings into what only we (or we differently) hold and what only they hold. */
export function diffProbe (local: WireEntry[], remote: WireEntry[]): { ours: Uint8Array[], theirs: Uint8Array[] } {
  const ours: Uint8Array[] = []
  const theirs: Uint8Array[] = []
  walkListings(local, remote, a => ours.push(a.keyHash), b => theirs.push(b.keyHash), (a, b) => {
    if (!sameWire(a.digest, b.digest)) {
      ours.push(a.keyHash)
      theirs.push(b.keyHash)
    }
  })
  return { ours, theirs }
}

export function keyHashHasPrefix (keyHash: Uint8Array, prefix: Prefix): boolean {
  return toHex(keyHash.subarray(0, Math.ceil(prefix.length / 2))).startsWith(prefix)
}

export class Initiator {
  private state: 'start' | 'await-hello-reply' | 'await-reply' | 'await-end' | 'done' = 'start'
  private readonly descendQueue: Prefix[] = []
  private readonly probeQueue: Prefix[] = []
  private readonly pullQueue: Prefix[] = []
  private outstandingDescend = new Set<Prefix>()
  private outstandingProbeKeys = new Set<string>()
  /** prefixes under which the responder may send us patterns now (a set: a request may name thousands) */
  private expectPrefixes = new Set<Prefix>()
  private requests = 0
  roundTrips = 0
  /** the responder was in another session and did not reconcile */
  busy = false
  /** with busy: when the responder said to try again (ms), if it did */
  retryAfterMs: number | undefined

  constructor (private readonly index: IndexView, private readonly limits: ReconcileLimits = DEFAULT_RECONCILE_LIMITS) {}

  get done (): boolean {
    return this.state === 'done'
  }

  hello (): HelloMsg {
    if (this.state !== 'start') throw new ProtocolViolationError('hello already sent')
    this.state = 'await-hello-reply'
    return { type: 'hello', version: RECONCILE_VERSION, root: this.index.root(), count: this.index.size }
  }

  /** Whether a pattern with this key hash may arrive now (it answers our probes or pulls). */
  expectsPattern (keyHash: Uint8Array): boolean {
    if (this.state !== 'await-reply' || keyHash.length < Math.ceil(MERKLE_DEPTH / 2)) return false
    // every expected prefix is one of the MERKLE_DEPTH + 1 prefixes of this key hash, or none is
    const hex = toHex(keyHash.subarray(0, Math.ceil(MERKLE_DEPTH / 2)))
    for (let len = 0; len <= MERKLE_DEPTH; len++) if (this.expectPrefixes.has(hex.slice(0, len))) return true
    return false
  }

  onReply (reply: ReplyMsg): InitiatorStep {
    const push: SendInstruction = { keyHashes: [], prefixes: [] }
    if (reply.end === true) {
      if (this.state !== 'await-end') throw new ProtocolViolationError('end reply before a done request')
      if (reply.inSync || reply.busy === true || reply.children.length > 0 || reply.need.length > 0) throw new ProtocolViolationError('end reply carries data')
      this.state = 'done'
      return { push, request: undefined, done: true }
    }
    if (this.state === 'await-hello-reply') {
      this.roundTrips++
      if (reply.busy === true) {
        if (reply.inSync || reply.children.length > 0 || reply.need.length > 0) throw new ProtocolViolationError('busy reply carries data')
        this.state = 'done'
        this.busy = true
        this.retryAfterMs = reply.retryAfterMs
        return { push, request: undefined, done: true }
      }
      if (reply.inSync) {
        if (reply.children.length > 0 || reply.need.length > 0) throw new ProtocolViolationError('inSync reply carries data')
        this.state = 'done'
        return { push, request: undefined, done: true }
      }
      this.outstandingDescend = new Set([''])
    } else if (this.state === 'await-reply') {
      this.roundTrips++
      if (reply.inSync || reply.busy === true) throw new ProtocolViolationError('inSync and busy only answer a hello')
    } else {
      throw new ProtocolViolationError(`unexpected reply in state ${this.state}`)
    }

    for (const ch of reply.children) this.compareChildren(ch, push)
    if (this.outstandingDescend.size > 0) throw new ProtocolViolationError('reply lacks children we asked for')
    for (const kh of reply.need) {
      if (!this.outstandingProbeKeys.delete(toHex(kh))) throw new ProtocolViolationError('peer needs a key we did not list')
      push.keyHashes.push(kh)
    }
    const request = this.nextRequest()
    return { push, request, done: request.done }
  }

  private compareChildren (ch: ChildHashes, push: SendInstruction): void {
    if (!this.outstandingDescend.delete(ch.parent)) throw new ProtocolViolationError(`children of ${JSON.stringify(ch.parent)} were not asked for`)
    const local = this.index.children(ch.parent)
    childPrefixes(ch.parent).forEach((c, i) => {
      const mine = local[i] as NodeSummary
      const theirCount = ch.counts[i] as number
      if (mine.count === theirCount && sameChild(mine.hash, ch.hashes[i] as Uint8Array)) return
      if (theirCount === 0) push.prefixes.push(c)
      else if (mine.count === 0) this.pullQueue.push(c)
      else if (c.length === MERKLE_DEPTH || mine.count + theirCount <= this.limits.probeThreshold) this.probeQueue.push(c)
      else this.descendQueue.push(c)
    })
  }

  private nextRequest (): RequestMsg {
    if (++this.requests > this.limits.maxRequests) throw new ProtocolViolationError('too many requests in one session')
    const descend = this.descendQueue.splice(0, this.limits.maxDescend)
    const probes: Probe[] = []
    let entries = 0
    while (this.probeQueue.length > 0) {
      const prefix = this.probeQueue[0] as Prefix
      const listing = wireEntries(this.index.entries(prefix))
      if (probes.length > 0 && entries + listing.length > this.limits.maxProbeEntries) break
      this.probeQueue.shift()
      entries += listing.length
      probes.push({ prefix, entries: listing })
    }
    const pullPrefixes = this.pullQueue.splice(0, this.limits.maxPullPrefixes)
    this.outstandingDescend = new Set(descend)
    this.outstandingProbeKeys = new Set(probes.flatMap(p => p.entries.map(e => toHex(e.keyHash))))
    this.expectPrefixes = new Set([...probes.map(p => p.prefix), ...pullPrefixes])
    const done = descend.length === 0 && probes.length === 0 && pullPrefixes.length === 0
    // after a done request the responder still confirms (end reply) that it merged all we pushed
    this.state = done ? 'await-end' : 'await-reply'
    return { type: 'request', descend, probes, pullPrefixes, done }
  }
}
