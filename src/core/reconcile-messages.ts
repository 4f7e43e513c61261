/**
 * Messages of the reconciliation protocol as plain values (the wire codec in
 * src/gossip/ maps them to and from protobuf). Subtree hashes travel as their first
 * CHILD_HASH_BYTES bytes and state digests in listings as their first WIRE_HASH_BYTES:
 * a child hash only steers the descent (a 2^-64 accidental match hides a difference
 * only until that subtree changes again), while a listing digest decides what moves.
 * Child hashes are most of a diff's metadata, so halving them matters.
 */
import type { PatternState } from './pattern.js'
import type { Prefix } from './merkle.js'

export const WIRE_HASH_BYTES = 16
export const CHILD_HASH_BYTES = 8
/** A probe listing entry: full 32-byte key hash, then the digest prefix. */
export const PROBE_ENTRY_BYTES = 32 + WIRE_HASH_BYTES
export const RECONCILE_VERSION = 1

export interface WireEntry {
  keyHash: Uint8Array
  digest: Uint8Array
}

export interface HelloMsg {
  type: 'hello'
  version: number
  root: Uint8Array
  count: number
}

export interface Probe {
  prefix: Prefix
  entries: WireEntry[]
}

export interface RequestMsg {
  type: 'request'
  descend: Prefix[]
  probes: Probe[]
  pullPrefixes: Prefix[]
  done: boolean
}

export interface ChildHashes {
  parent: Prefix
  /** 16 truncated (CHILD_HASH_BYTES) hashes, nibble order */
  hashes: Uint8Array[]
  /** 16 pattern counts */
  counts: number[]
}

export interface ReplyMsg {
  type: 'reply'
  inSync: boolean
  children: ChildHashes[]
  need: Uint8Array[]
  /** answer to a hello: the responder is in another session; nothing else is set */
  busy?: boolean
  /** with busy: when to try again, in ms (absent: not said) */
  retryAfterMs?: number
  /** answer to a done request: everything pushed is merged; nothing else is set */
  end?: boolean
}

export interface PatternsMsg {
  type: 'patterns'
  patterns: PatternState[]
  push: boolean
  /** the canonical bytes each pattern was decoded from (set by the decoder), to store as they are */
  encoded?: Uint8Array[]
}

export type GossipMessage = HelloMsg | RequestMsg | ReplyMsg | PatternsMsg
