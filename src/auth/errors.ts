/** Why a received write was not believed. Named, so callers and tests tell them apart by `err.name`. */

/** A write names a writer whose key cannot be known (not an Ed25519 PeerId). */
export class UnverifiableWriterError extends Error {
  override name = 'UnverifiableWriterError'
}

/** A write's signature does not verify with its writer's key: forged, or altered on the way. */
export class ForgedWriteError extends Error {
  override name = 'ForgedWriteError'
}

/** A write by a node outside this node's trusted writers (`--trusted-peers`). */
export class UntrustedWriterError extends Error {
  override name = 'UntrustedWriterError'
}
