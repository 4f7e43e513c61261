/**
 * A tiny in-memory cluster of replicas for property tests of the core: local writes,
 * deletes and state messages that may be delayed, reordered and duplicated.
 */
import fc from 'fast-check'
import { applyDelete, applyWrite, type Author, isDeleted, type PatternState } from '../../src/core/pattern.js'
import { mergeIncoming } from '../../src/core/merge.js'
import { encodePattern, keyHash, patternDigest } from '../../src/core/encoding.js'
import { MerkleIndex } from '../../src/core/merkle.js'
import { author } from './authors.js'

export const KEYS = ['k1', 'k2', 'k3']
export const EPISODES = ['e1', 'e2', 'e3', 'e4']

export type Cmd =
  | { t: 'write', r: number, key: string, add: string[], remove: string[], confidence?: number, summary?: string | null }
  | { t: 'delete', r: number, key: string }
  | { t: 'send', from: number, to: number, key: string }
  | { t: 'deliver', msg: number }

export function arbCmd (replicas: number): fc.Arbitrary<Cmd> {
  const r = fc.integer({ min: 0, max: replicas - 1 })
  const key = fc.constantFrom(...KEYS)
  const eps = fc.subarray(EPISODES)
  const confidence = fc.option(fc.constantFrom(0, 0.1, 0.3, 0.5, 0.7, 0.9, 1), { nil: undefined })
  const summary = fc.option(fc.constantFrom('s1', 's2', null), { nil: undefined })
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ t: fc.constant('write' as const), r, key, add: eps, remove: eps, confidence, summary }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('delete' as const), r, key }) },
    { weight: 4, arbitrary: fc.record({ t: fc.constant('send' as const), from: r, to: r, key }) },
    { weight: 3, arbitrary: fc.record({ t: fc.constant('deliver' as const), msg: fc.nat(1000) }) }
  )
}

export class Replica {
  readonly states = new Map<string, PatternState>()
  counter = 0
  private readonly writer: Author
  constructor (readonly id: string, writer?: Author) {
    this.writer = writer ?? author(id)
  }

  write (key: string, add: string[], remove: string[], confidence: number | undefined, summary: string | null | undefined): void {
    const cur = this.states.get(key)
    if ((cur === undefined || isDeleted(cur)) && confidence === undefined) confidence = 0.5
    this.states.set(key, applyWrite(cur, key, { addEpisodes: add, removeEpisodes: remove, confidence, summary }, this.writer, ++this.counter))
  }

  delete (key: string): void {
    const cur = this.states.get(key)
    if (cur === undefined || isDeleted(cur)) return
    this.states.set(key, applyDelete(cur, this.writer, ++this.counter))
  }

  receive (s: PatternState): void {
    this.states.set(s.key, mergeIncoming(this.states.get(s.key), s).state)
  }

  index (): MerkleIndex {
    const idx = new MerkleIndex()
    for (const s of this.states.values()) idx.set(keyHash(s.key), patternDigest(s))
    return idx
  }

  bytes (): string {
    return [...this.states.keys()].sort().map(k => Buffer.from(encodePattern(this.states.get(k) as PatternState)).toString('hex')).join(',')
  }
}

export interface RunResult {
  replicas: Replica[]
  /** every state that was ever put in a message, for algebra checks */
  sent: PatternState[]
}

/** `writers[i]`, if given, writes for replica i (real keys, for signature checks); else a stand-in per replica */
export function run (n: number, cmds: Cmd[], writers?: readonly Author[]): RunResult {
  const replicas = Array.from({ length: n }, (_, i) => writers?.[i] !== undefined ? new Replica(writers[i].node, writers[i]) : new Replica(`node-${i}`))
  const inflight: Array<{ to: number, state: PatternState }> = []
  for (const c of cmds) {
    switch (c.t) {
      case 'write': replicas[c.r]!.write(c.key, c.add, c.remove, c.confidence, c.summary); break
      case 'delete': replicas[c.r]!.delete(c.key); break
      case 'send': {
        const s = replicas[c.from]!.states.get(c.key)
        if (s !== undefined && c.from !== c.to) inflight.push({ to: c.to, state: s })
        break
      }
      case 'deliver': {
        if (inflight.length === 0) break
        const m = inflight[c.msg % inflight.length]! // messages stay: later deliveries duplicate them
        replicas[m.to]!.receive(m.state)
      }
    }
  }
  return { replicas, sent: inflight.map(m => m.state) }
}
