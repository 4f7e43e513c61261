/**
 * Private-network swarm keys (`/key/swarm/psk/1.0.0/` format, as go-ipfs/kubo and @libp2p/pnet use).
 * @libp2p/pnet only says "invalid psk" on a bad key, at node creation, so we validate here
 * and say what is wrong.
 */
import './polyfill.js'
import { constants as fsc } from 'node:fs'
import { chmod, mkdir, open, readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { generateKey } from '@libp2p/pnet'

const HEADER = '/key/swarm/psk/1.0.0/'
const CODEC = '/base16/'
/** generateKey writes header + codec + 64 hex chars with two newlines. */
const ENCODED_LENGTH = HEADER.length + 1 + CODEC.length + 1 + 64

export class SwarmKeyError extends Error {
  override name = 'SwarmKeyError'
  constructor (message: string, readonly path?: string) {
    super(path == null ? message : `swarm key file ${path}: ${message}`)
  }
}

/** A fresh random swarm key, in file format. */
export function generateSwarmKey (): Uint8Array {
  const buf = new Uint8Array(ENCODED_LENGTH)
  generateKey(buf)
  return buf
}

/**
 * Validates swarm key contents and returns them in canonical form (what pnet parses);
 * tolerates CRLF, a trailing newline and upper-case hex, as hand-edited files have.
 */
export function parseSwarmKey (contents: Uint8Array | string, path?: string): Uint8Array {
  const text = typeof contents === 'string' ? contents : new TextDecoder().decode(contents)
  const lines = text.split(/\r\n|\r|\n/).map(l => l.trim())
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  const fix = 'create one with `engram key swarm <file>` and copy it to every node'

  if (lines[0] !== HEADER) {
    throw new SwarmKeyError(`first line must be ${HEADER} (got ${JSON.stringify(lines[0] ?? '')}); ${fix}`, path)
  }
  if (lines[1] !== CODEC) {
    throw new SwarmKeyError(`second line must be ${CODEC}, the only encoding supported (got ${JSON.stringify(lines[1] ?? '')})`, path)
  }
  const hex = lines[2] ?? ''
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new SwarmKeyError(`third line must be 64 hex characters (a 32-byte key), got ${hex.length} characters; ${fix}`, path)
  }
  if (lines.length > 3) {
    throw new SwarmKeyError('unexpected content after the key line', path)
  }
  return new TextEncoder().encode(`${HEADER}\n${CODEC}\n${hex.toLowerCase()}`)
}

/** Reads and validates a swarm key file. */
export async function readSwarmKeyFile (path: string): Promise<Uint8Array> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SwarmKeyError('does not exist; copy the cluster\'s swarm key here, or create a new one for a new cluster', path)
    }
    throw err
  }
  return parseSwarmKey(bytes, path)
}

/** Writes a new swarm key (mode 0600; it is a shared secret). Refuses to overwrite unless asked. */
export async function writeSwarmKeyFile (path: string, options: { overwrite?: boolean, key?: Uint8Array } = {}): Promise<Uint8Array> {
  const key = options.key != null ? parseSwarmKey(options.key) : generateSwarmKey()
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const flags = fsc.O_WRONLY | fsc.O_CREAT | (options.overwrite === true ? fsc.O_TRUNC : fsc.O_EXCL)
  let fh
  try {
    fh = await open(path, flags, 0o600)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new SwarmKeyError('already exists; refusing to overwrite it (every node of the cluster shares it)', path)
    }
    throw err
  }
  try {
    await fh.writeFile(key)
  } finally {
    await fh.close()
  }
  if (process.platform !== 'win32') await chmod(path, 0o600)
  return key
}
