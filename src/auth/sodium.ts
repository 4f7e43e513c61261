/**
 * libsodium (sodium-native), the one Ed25519 implementation every signature goes through: its
 * sign and check cost markedly less CPU than node:crypto's here (bench/core.bench.ts rows), and one
 * library for every check means every node gives the same answer for every signature.
 */
import { createRequire } from 'node:module'

interface Sodium {
  crypto_sign_verify_detached: (sig: Uint8Array, message: Uint8Array, key: Uint8Array) => boolean
  crypto_sign_detached: (sig: Uint8Array, message: Uint8Array, secretKey: Uint8Array) => void
  crypto_sign_seed_keypair: (publicKey: Uint8Array, secretKey: Uint8Array, seed: Uint8Array) => void
}

const require = createRequire(import.meta.url)
/** Where the module is, for worker threads to load the same one. */
export const SODIUM_PATH = require.resolve('sodium-native')
export const sodium = require(SODIUM_PATH) as Sodium
