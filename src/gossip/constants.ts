/**
 * Protocol names and limits of /engram/gossip. Every limit is finite so that a peer
 * can never make us allocate, wait or work without bound.
 */
import { availableParallelism } from 'node:os'
import { MAX_PATTERN_BYTES } from '../core/limits.js'

/** Bumped on any incompatible change of messages or of the Merkle shape (see docs/protocol.md). */
export const GOSSIP_PROTOCOL = '/engram/gossip/2.2.0'

/** One frame holds at most one full pattern plus framing, or a batch of small items. */
export const MAX_FRAME_BYTES = MAX_PATTERN_BYTES + 64 * 1024

/** Patterns in one message; a bigger diff is moved in several messages. */
export const MAX_PATTERNS_PER_MESSAGE = 512

/**
 * Bytes a sender lets one stream hold unsent before it waits: the peer's muxer window decides
 * how fast they leave, so a bulk transfer to a slow reader costs at most this plus one frame.
 */
export const MAX_UNSENT_BYTES = 1024 * 1024

/**
 * A node's next round comes interval × U(1 − jitter, 1 + jitter) after its last, so nodes
 * started together drift apart. ±10 % is enough for that; more only spreads out the gaps, and
 * long gaps slow an epidemic: with the push-pull model of bench/lib/sim-schedules.ts, 100
 * nodes need 4.36 intervals on average at ±10 % and 4.44 at ±50 %.
 */
export const ROUND_JITTER = 0.1

/** Whole exchange, start to end; a slow or stuck peer cannot hold a session open longer. */
export const SESSION_TIMEOUT_MS = 60_000

/** Waiting for any single message from the peer. */
export const MESSAGE_TIMEOUT_MS = 15_000

/**
 * Inbound gossip streams from one peer at once; more are refused (stream reset). A peer
 * keeps one stream open between its sessions (CHANNEL_IDLE_MS) and opens another only
 * for a push while that one is busy.
 */
export const MAX_SESSIONS_PER_PEER = 3

/**
 * An outbound gossip stream is kept this long after its last session or push, so the next
 * round or push to that peer skips stream set-up: multistream-select and the Yamux open and
 * close cost ~320 B on the wire, twice what an idle round itself needs. Long, because rounds
 * pick peers at random: at 60-s rounds with 100 peers a given peer is picked about every
 * 100 minutes, so 4 h keeps ~90 % of rounds on a kept stream. An idle stream costs a few
 * KiB, and MAX_SESSIONS_PER_PEER bounds how many one peer can hold open on us.
 */
export const CHANNEL_IDLE_MS = 4 * 60 * 60_000

/** The responder waits this long for the next session on a stream; longer than the initiator keeps it, so the initiator closes first. */
export const CHANNEL_IDLE_RESPONDER_MS = CHANNEL_IDLE_MS + 60_000

/**
 * While peers are being turned away busy, a peer waits this long after the end of its last
 * session here before the next: one that reopens at once cannot keep the slot from the others
 * (admission.ts). Short against the round interval, so honest peers never notice it.
 */
export const SESSION_COOLDOWN_MS = 10_000

/**
 * Reconciliation sessions at once, both roles: one inbound and one of our own rounds, where
 * there is a core for each. Not more inbound ones by default: two peers that find us behind
 * would both send the same large difference (admission.ts keeps one slot for our own rounds).
 */
export const MAX_CONCURRENT_SESSIONS = availableParallelism() > 1 ? 2 : 1

/** A peer turned away for lack of a slot is told to come back after about this long: sessions are short. */
export const BUSY_RETRY_MS = 2_000

/** The most a busy answer may ask a peer to wait (a larger value is read as this). */
export const MAX_RETRY_AFTER_MS = 60_000

/**
 * Received gossip bytes not yet read, all streams together: a stream whose data would go past
 * it is dropped. A stream holds at most about a window and a frame unread, so this leaves room
 * for dozens of full transfers at once (a bulk pull holds a few MiB).
 */
export const MAX_BUFFERED_INBOUND_BYTES = 64 * 1024 * 1024

/** Inbound gossip streams open at once, all peers together: more are reset (fresh identities cost nothing). */
export const MAX_INBOUND_GOSSIP_STREAMS = 256

/**
 * What one peer may push to us per minute (push-quota.ts): new keys, pattern bytes and frames.
 * Far above what honest writing pushes (a bulk import is better moved by anti-entropy anyway);
 * the frame count bounds the CPU a stream of tiny or empty frames costs.
 */
export const PUSH_NEW_KEYS_PER_MINUTE = 10_000
export const PUSH_BYTES_PER_MINUTE = 32 * 1024 * 1024
export const PUSH_FRAMES_PER_MINUTE = 60_000

/** Inbound streams libp2p accepts for the protocol on one connection. */
export const MAX_INBOUND_STREAMS = 4
