/**
 * Finite limits on everything a pattern can hold. Decoders check them before
 * allocating, so a hostile peer cannot make us allocate without bound, and
 * local writes are checked against the same numbers so we never create a state
 * that another node would refuse.
 */

/** Pattern keys are short identifiers, not documents. */
export const MAX_KEY_BYTES = 512
/** Episode ids are opaque identifiers (uuids, hashes, paths). */
export const MAX_EPISODE_ID_BYTES = 256
/** A consolidated pattern refers to at most this many episodes. */
export const MAX_EPISODES = 4096
/** Summaries are short prose. */
export const MAX_SUMMARY_BYTES = 16 * 1024
/** Node ids are PeerId strings (52 chars for Ed25519); leave room for other key types. */
export const MAX_NODE_ID_BYTES = 128
/** One clock entry per node that ever wrote the pattern; bounds versions and dots too. */
export const MAX_CLOCK_ENTRIES = 1024
/** One full encoded pattern, all of the above included. */
export const MAX_PATTERN_BYTES = 1024 * 1024
/** Counters are plain JS numbers; stay exact. */
export const MAX_COUNTER = Number.MAX_SAFE_INTEGER
/**
 * Writes a node always keeps in hand: a received state that names a dot of this node above
 * MAX_COUNTER - OWN_COUNTER_HEADROOM is not merged there, so no peer can push the node's own
 * counter to where it could no longer write. Far more writes than any backup can be behind.
 */
export const OWN_COUNTER_HEADROOM = 2 ** 32
/** Every write is signed with its author's Ed25519 key. */
export const SIGNATURE_BYTES = 64
/**
 * Bytes of content (summary and episode ids) the live versions of one pattern keep in full
 * together. One write's content fits it alone; when concurrent writes together would not, the
 * largest are kept without their content (see content-rule.ts, keepsContent). The rest of a
 * pattern's bytes (clock, heads, deps, signatures) fits in what is left of MAX_PATTERN_BYTES
 * up to MAX_CLOCK_ENTRIES writers.
 */
export const CONTENT_BUDGET = 768 * 1024
/**
 * Bytes of deps the live versions of one pattern keep in full together (by the weight below,
 * see content-rule.ts, keepsDeps): concurrent writes of a key with many writers would otherwise
 * carry about writers × versions deps entries. What is left of MAX_PATTERN_BYTES after the
 * content budget and the per-writer parts (clock entries, versions or heads) of a full clock.
 */
export const DEPS_BUDGET = 40 * 1024
/** What one deps entry may take encoded: a node index (< 16,384 ids) and a counter (<= 2^53). */
export const DEPS_ENTRY_WEIGHT = 10
/** What a dropped writer a deps entry names adds: its id in the table of dropped writers. */
export const DROPPED_WRITER_WEIGHT = 2 + MAX_NODE_ID_BYTES
