/**
 * What one Ed25519 signature and one check cost alone on this machine (libsodium, as the node
 * uses it): every imported pattern is signed once and every pulled one checked once, so these
 * bound how fast an import or a pull can go on a given number of cores.
 */
import { sodium } from '../../src/auth/sodium.js'

export interface SignatureCost {
  signUs: number
  checkUs: number
}

export function signatureCost (rounds = 4000): SignatureCost {
  const publicKey = new Uint8Array(32)
  const secretKey = new Uint8Array(64)
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, new Uint8Array(32).fill(7))
  const message = new Uint8Array(32).fill(3)
  const sig = new Uint8Array(64)
  // a first few unmeasured, so neither figure includes loading or warming up
  for (let i = 0; i < 100; i++) sodium.crypto_sign_detached(sig, message, secretKey)
  for (let i = 0; i < 100; i++) sodium.crypto_sign_verify_detached(sig, message, publicKey)
  let t = performance.now()
  for (let i = 0; i < rounds; i++) sodium.crypto_sign_detached(sig, message, secretKey)
  const signUs = (performance.now() - t) * 1000 / rounds
  t = performance.now()
  let ok = 0
  for (let i = 0; i < rounds; i++) if (sodium.crypto_sign_verify_detached(sig, message, publicKey)) ok++
  const checkUs = (performance.now() - t) * 1000 / rounds
  if (ok !== rounds) throw new Error('a signature made here did not verify')
  return { signUs, checkUs }
}
