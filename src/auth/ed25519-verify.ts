/**
 * Ed25519 signature checks with libsodium (sodium.ts): a bulk pull checks every signature it
 * receives, and on a small machine that CPU is shared with the merge and the serving peer.
 * Every check, in place or on a worker, uses the same library, so all nodes agree on every
 * signature (libraries differ on edge cases such as small-order keys). A batch goes to a worker
 * thread, so the event loop keeps merging meanwhile; a few checks (a push) run in place.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { SODIUM_PATH, sodium } from './sodium.js'

export interface SignedItem {
  /** the writer's raw 32-byte Ed25519 public key */
  key: Uint8Array
  message: Uint8Array
  /** 64 bytes */
  sig: Uint8Array
}

const KEY_BYTES = 32
const SIG_BYTES = 64
/** per item in a packed batch: key, signature, message length */
const ITEM_HEADER = KEY_BYTES + SIG_BYTES + 4

/** What a worker runs: plain CommonJS, so it needs no build step or loader. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const sodium = require(workerData.sodium)
parentPort.on('message', ({ id, buf }) => {
  const bytes = new Uint8Array(buf)
  const view = new DataView(buf)
  const n = view.getUint32(0)
  const ok = new Uint8Array(n)
  let at = 4
  for (let i = 0; i < n; i++) {
    const len = view.getUint32(at + ${KEY_BYTES + SIG_BYTES})
    const key = bytes.subarray(at, at + ${KEY_BYTES})
    const sig = bytes.subarray(at + ${KEY_BYTES}, at + ${KEY_BYTES + SIG_BYTES})
    const message = bytes.subarray(at + ${ITEM_HEADER}, at + ${ITEM_HEADER} + len)
    at += ${ITEM_HEADER} + len
    try { ok[i] = sodium.crypto_sign_verify_detached(sig, message, key) ? 1 : 0 } catch { ok[i] = 0 }
  }
  parentPort.postMessage({ id, ok }, [ok.buffer])
})
`

/** Checks in one call below which they run in place: a worker's round trip is not worth it. */
const IN_PLACE_MAX = 16
/** Checks per worker message at least, when a batch is split over several workers. */
const MIN_SHARE = 128
/** A worker with no batch for this long stops (the next batch starts it again): an idle node runs none. */
const IDLE_MS = 30_000

/** Whether one signature verifies (in place). Malformed sizes do not verify. */
export function verifyInPlace (item: SignedItem): boolean {
  if (item.key.length !== KEY_BYTES || item.sig.length !== SIG_BYTES) return false
  try {
    return sodium.crypto_sign_verify_detached(item.sig, item.message, item.key)
  } catch {
    return false
  }
}

interface Running {
  worker: Worker
  pending: Map<number, { resolve: (ok: Uint8Array) => void, reject: (err: Error) => void }>
  idle?: ReturnType<typeof setTimeout>
}

/** A small pool of worker threads that check batches of signatures. */
export class Ed25519Verifier {
  private readonly running: Array<Running | undefined> = []
  private readonly size: number
  private nextId = 0
  private closed = false

  /**
   * `threads`: workers at most (default: one per CPU; at least one). Not one fewer for the event loop: during a
   * bulk pull it mostly waits for these checks, and a second worker made a pull faster here.
   */
  constructor (threads?: number) {
    this.size = Math.max(1, threads ?? availableParallelism())
  }

  /**
   * One 0/1 per item: whether its signature verifies. If a worker fails, its share is checked
   * in place (the same library, so the same answers), never skipped.
   */
  async verify (items: readonly SignedItem[]): Promise<Uint8Array> {
    if (items.length <= IN_PLACE_MAX || this.closed) return Uint8Array.from(items, i => verifyInPlace(i) ? 1 : 0)
    const n = Math.min(this.size, Math.max(1, Math.floor(items.length / MIN_SHARE)))
    const per = Math.ceil(items.length / n)
    const parts = await Promise.all(Array.from({ length: n }, async (_, w) => {
      const share = items.slice(w * per, (w + 1) * per)
      return await this.send(w, share).catch(() => Uint8Array.from(share, i => verifyInPlace(i) ? 1 : 0))
    }))
    const out = new Uint8Array(items.length)
    parts.forEach((p, w) => { out.set(p, w * per) })
    return out
  }

  /** Stops the workers; checks asked for later run in place. */
  close (): void {
    this.closed = true
    for (const r of this.running) if (r !== undefined) this.stop(r, new Error('signature workers closed'))
  }

  private async send (slot: number, items: readonly SignedItem[]): Promise<Uint8Array> {
    const buf = pack(items)
    const r = this.workerAt(slot)
    if (r.idle !== undefined) clearTimeout(r.idle)
    r.idle = undefined
    const id = this.nextId++
    return await new Promise<Uint8Array>((resolve, reject) => {
      r.pending.set(id, { resolve, reject })
      r.worker.postMessage({ id, buf }, [buf])
    })
  }

  private workerAt (slot: number): Running {
    const have = this.running[slot]
    if (have !== undefined) return have
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { sodium: SODIUM_PATH } })
    worker.unref()
    const r: Running = { worker, pending: new Map() }
    worker.on('message', ({ id, ok }: { id: number, ok: Uint8Array }) => {
      r.pending.get(id)?.resolve(ok)
      r.pending.delete(id)
      if (r.pending.size === 0 && r.idle === undefined) {
        r.idle = setTimeout(() => { this.stop(r) }, IDLE_MS)
        r.idle.unref()
      }
    })
    worker.on('error', err => { this.stop(r, err) })
    worker.on('exit', () => { this.stop(r, new Error('signature worker exited')) })
    this.running[slot] = r
    return r
  }

  /** Stops one worker; the batches it still owed fail with `err` (their callers check them in place). */
  private stop (r: Running, err?: Error): void {
    const at = this.running.indexOf(r)
    if (at >= 0) this.running[at] = undefined
    if (r.idle !== undefined) clearTimeout(r.idle)
    for (const p of r.pending.values()) p.reject(err ?? new Error('signature worker stopped'))
    r.pending.clear()
    void r.worker.terminate()
  }
}

/** The items as one transferable buffer: count, then per item key, signature, message length, message. */
function pack (items: readonly SignedItem[]): ArrayBuffer {
  let size = 4
  for (const i of items) size += ITEM_HEADER + i.message.length
  const buf = new ArrayBuffer(size)
  const bytes = new Uint8Array(buf)
  const view = new DataView(buf)
  view.setUint32(0, items.length)
  let at = 4
  for (const i of items) {
    // a wrong-sized key or signature is left as zeros: libsodium refuses that key (small order)
    if (i.key.length === KEY_BYTES) bytes.set(i.key, at)
    if (i.sig.length === SIG_BYTES) bytes.set(i.sig, at + KEY_BYTES)
    view.setUint32(at + KEY_BYTES + SIG_BYTES, i.message.length)
    bytes.set(i.message, at + ITEM_HEADER)
    at += ITEM_HEADER + i.message.length
  }
  return buf
}
