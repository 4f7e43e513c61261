/**
 * A fix for the XSalsa20 stream cipher under @libp2p/pnet (the cluster secret's encryption).
 * The `xsalsa20` package keeps one WebAssembly memory for all its cipher instances, and each
 * instance a view of it. When one instance grows the memory, every other instance's view is
 * detached (length 0), and its next update "grows" the memory again by its whole input: with two
 * connections taking turns, every packet grows the memory until V8 refuses
 * ("WebAssembly.Memory.grow(): Maximum memory size exceeded", thrown from a socket handler, so
 * the node process dies; seen in the network suite after some MB). The fix gives a detached
 * instance a fresh view before it updates; the cipher itself is unchanged.
 */
import { createRequire } from 'node:module'

interface WasmXor {
  _memory: Uint8Array
  update(input: Uint8Array, output: Uint8Array): void
}
interface XSalsa20Instance { _xor: WasmXor | object, finalize(): void }
/** the package's export: makes a cipher (its instance's internals typed for what the fix touches) */
export type XSalsa20Factory = (nonce: Uint8Array, key: Uint8Array) => unknown

const PATCHED = Symbol.for('engram.xsalsa20-memory-fix')

/** The copy of `xsalsa20` that @libp2p/pnet itself loads. */
function pnetsXSalsa20 (): XSalsa20Factory {
  const pnet = import.meta.resolve('@libp2p/pnet')
  return createRequire(pnet)('xsalsa20') as XSalsa20Factory
}

/** Applies the fix once per process; a no-op where the package has no WebAssembly instances. */
export function fixXSalsa20Memory (xsalsa20: XSalsa20Factory = pnetsXSalsa20()): void {
  const make = (): XSalsa20Instance => xsalsa20(new Uint8Array(24), new Uint8Array(32)) as XSalsa20Instance
  const probe = make()
  const wasm = '_memory' in probe._xor
  const proto = Object.getPrototypeOf(probe._xor) as WasmXor & { [PATCHED]?: true }
  probe.finalize()
  if (!wasm || proto[PATCHED] === true) return
  const update = proto.update
  // a new instance's view is of the memory as it is now
  const currentView = (): Uint8Array => {
    const fresh = make()
    const view = (fresh._xor as WasmXor)._memory
    fresh.finalize()
    return view
  }
  proto.update = function (this: WasmXor, input: Uint8Array, output: Uint8Array): void {
    if (this._memory.byteLength === 0) this._memory = currentView()
    update.call(this, input, output)
  }
  proto[PATCHED] = true
}
