/** Names that keep an Engram cluster's discovery apart from everyone else's. */

/** The cluster's own DHT, so we never join (or leak into) the public IPFS one. */
export const DHT_PROTOCOL = '/engram/kad/1.0.0'

/** Default cluster name; the rendezvous CID is derived from it. */
export const DEFAULT_CLUSTER = 'engram'

/** A cluster of its own name gets a DHT of its own, so clusters never mix routing tables. */
export function dhtProtocolFor (cluster: string | undefined): string {
  return cluster === undefined || cluster === DEFAULT_CLUSTER ? DHT_PROTOCOL : `/engram/${encodeURIComponent(cluster)}/kad/1.0.0`
}
