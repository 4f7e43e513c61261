/**
 * Signature checks in batches on worker threads. A bulk pull checks every pattern it receives:
 * one libuv job per signature costs the event loop a job's setup and a callback each, so a
 * frame's checks go to a worker as one message instead (split over the workers, which run on
 * the other cores while the event loop merges). Workers start on the first batch and stop
 * after a while without work, so an idle node runs none.
 */
import { Worker } from 'node:worker_threads'

/** What a worker runs (plain CommonJS: no build step, no loader). */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const { createPublicKey, verify } = require('node:crypto')
const SPKI = Buffer.from('302a300506032b6570032100', 'hex')
const keys = new Map()
parentPort.on('message', ({ id, keys: raw, messages, sigs }) => {
  const ok = new Uint8Array(messages.length)
  for (let i = 0; i < messages.length; i++) {
    try {
      const hex = Buffer.from(raw[i]).toString('hex')
      let key = keys.get(hex)
      if (key === undefined) {
        if (keys.size > 4096) keys.clear()
        key = createPublicKey({ key: Buffer.concat([SPKI, raw[i]]), format: 'der', type: 'spki' })
        keys.set(hex, key)
      }
      ok[i] = verify(null, messages[i], key, sigs[i]) ? 1 : 0
    } catch { ok[i] = 0 }
  }
  parentPort.postMessage({ id, ok })
})
`

/** a worker with no batch for this long stops (the next batch starts it again) */
const IDLE_MS = 30_000

export interface SignedItem {
  /** the writer's raw Ed25519 public key */
  key: Uint8Array
  message: Uint8Array
  sig: Uint8Array
}

interface Running {
  worker: Worker
  pending: Map<number, { resolve: (ok: Uint8Array) => void, reject: (err: Error) => void }>
  idle?: ReturnType<typeof setTimeout>
}

export class VerifyWorkers {
  private readonly running: Array<Running | undefined> = []
  private nextId = 0
  private closed = false

  constructor (private readonly size: number) {}

  /** One 0/1 per item: whether its signature verifies. Rejects if a worker fails (the caller checks another way). */
  async verify (items: readonly SignedItem[]): Promise<Uint8Array> {
    if (this.closed) throw new Error('verify workers closed')
    const n = Math.min(this.size, Math.max(1, Math.ceil(items.length / 128)))
    const per = Math.ceil(items.length / n)
    const parts = await Promise.all(Array.from({ length: n }, async (_, w) => await this.send(w, items.slice(w * per, (w + 1) * per))))
    const out = new Uint8Array(items.length)
    parts.forEach((p, w) => { out.set(p, w * per) })
    return out
  }

  close (): void {
    this.closed = true
    for (const r of this.running) if (r !== undefined) this.stop(r, new Error('verify workers closed'))
  }

  private async send (slot: number, items: readonly SignedItem[]): Promise<Uint8Array> {
    if (items.length === 0) return new Uint8Array(0)
    const r = this.workerAt(slot)
    if (r.idle !== undefined) clearTimeout(r.idle)
    r.idle = undefined
    const id = this.nextId++
    return await new Promise<Uint8Array>((resolve, reject) => {
      r.pending.set(id, { resolve, reject })
      r.worker.postMessage({ id, keys: items.map(i => i.key), messages: items.map(i => i.message), sigs: items.map(i => i.sig) })
    })
  }

  private workerAt (slot: number): Running {
    const have = this.running[slot]
    if (have !== undefined) return have
    const worker = new Worker(WORKER_SOURCE, { eval: true })
    worker.unref()
    const r: Running = { worker, pending: new Map() }
    worker.on('message', ({ id, ok }: { id: number, ok: Uint8Array }) => {
      r.pending.get(id)?.resolve(ok)
      r.pending.delete(id)
      if (r.pending.size === 0) {
        r.idle = setTimeout(() => { this.stop(r) }, IDLE_MS)
        r.idle.unref()
      }
    })
    worker.on('error', err => { this.stop(r, err) })
    worker.on('exit', () => { this.stop(r, new Error('verify worker exited')) })
    this.running[slot] = r
    return r
  }

  /** Stops a worker; batches it still owed fail with `err` (their callers check them another way). */
  private stop (r: Running, err?: Error): void {
    const at = this.running.indexOf(r)
    if (at >= 0) this.running[at] = undefined
    if (r.idle !== undefined) clearTimeout(r.idle)
    for (const p of r.pending.values()) p.reject(err ?? new Error('verify worker stopped'))
    r.pending.clear()
    void r.worker.terminate()
  }
}
