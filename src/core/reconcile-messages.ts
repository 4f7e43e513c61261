/**
 * Messages of the reconciliation protocol as plain values (the wire codec in
 * src/protocol/ maps them to and from protobuf). Hashes of subtrees and digests in
 * listings travel as their first WIRE_HASH_BYTES bytes: 128 bits keep accidental
 * collisions out of reach while halving the metadata of a diff.
 */
import type { PatternState } from './pattern.js'
import type { Prefix } from './merkle.js'

export const WIRE_HASH_BYTES = 16
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
  /** 16 truncated hashes, nibble order */
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
}

export interface PatternsMsg {
  type: 'patterns'
  patterns: PatternState[]
  push: boolean
}

export type GossipMessage = HelloMsg | RequestMsg | ReplyMsg | PatternsMsg
