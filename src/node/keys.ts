/**
 * The node's identity: an Ed25519 libp2p private key in a file (protobuf encoding, 68 bytes).
 * Errors are named and say the fix, ssh-style, because a wrong key file is the first thing
 * an operator hits.
 */
import './polyfill.js'
import { constants as fsc } from 'node:fs'
import { chmod, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PeerId, PrivateKey } from '@libp2p/interface'

/** Only this process's user may read a key; checked on POSIX only (Windows has no mode bits). */
const CHECK_MODE = process.platform !== 'win32'

export class KeyFileMissingError extends Error {
  override name = 'KeyFileMissingError'
  constructor (readonly path: string) {
    super(`key file ${path} does not exist: run \`engram key generate ${path}\` to create one`)
  }
}

export class KeyFileCorruptError extends Error {
  override name = 'KeyFileCorruptError'
  constructor (readonly path: string, detail: string) {
    super(`key file ${path} is not a valid libp2p private key (${detail}): ` +
      `restore it from a backup, or move it away and run \`engram key generate ${path}\` (a new identity)`)
  }
}

export class KeyFilePermissionError extends Error {
  override name = 'KeyFilePermissionError'
  constructor (readonly path: string, readonly mode: number) {
    super(`permissions ${(mode & 0o777).toString(8).padStart(4, '0')} for key file ${path} are too open: ` +
      `it must not be readable by group or others; run \`chmod 600 ${path}\``)
  }
}

export class KeyFileExistsError extends Error {
  override name = 'KeyFileExistsError'
  constructor (readonly path: string) {
    super(`key file ${path} already exists: refusing to overwrite a node identity; ` +
      'move it away first or ask explicitly to overwrite it')
  }
}

export interface GenerateKeyFileOptions {
  /** Replace an existing file (the old identity is lost). Default false. */
  overwrite?: boolean
}

/** Creates a new Ed25519 key and writes it with mode 0600 (parent dir created 0700). */
export async function generateKeyFile (path: string, options: GenerateKeyFileOptions = {}): Promise<PrivateKey> {
  const key = await generateKeyPair('Ed25519')
  const bytes = privateKeyToProtobuf(key)
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })

  if (options.overwrite !== true) {
    // 'wx' makes the refusal atomic: no window between an exists-check and the write
    await writeNew(path, bytes).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EEXIST' ? new KeyFileExistsError(path) : err
    })
    return key
  }

  // write aside then rename, so a crash never leaves a half-written identity
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`
  try {
    await writeNew(tmp, bytes)
    await rename(tmp, path)
  } catch (err) {
    await unlink(tmp).catch(() => {})
    throw err
  }
  return key
}

async function writeNew (path: string, bytes: Uint8Array): Promise<void> {
  const fh = await open(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600)
  try {
    await fh.writeFile(bytes)
    await fh.sync()
  } finally {
    await fh.close()
  }
  // the umask can only remove bits, but be explicit in case the file system adds some
  if (CHECK_MODE) await chmod(path, 0o600)
}

/** Reads a key file; throws KeyFileMissingError, KeyFilePermissionError or KeyFileCorruptError. */
export async function loadKeyFile (path: string): Promise<PrivateKey> {
  let mode: number
  try {
    const st = await stat(path)
    if (!st.isFile()) throw new KeyFileCorruptError(path, 'not a regular file')
    mode = st.mode
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new KeyFileMissingError(path)
    throw err
  }
  if (CHECK_MODE && (mode & 0o077) !== 0) throw new KeyFilePermissionError(path, mode)

  const bytes = await readFile(path)
  try {
    return privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new KeyFileCorruptError(path, (err as Error).message ?? String(err))
  }
}

export interface LoadOrCreateKeyOptions {
  /** Create the file when it is missing. Only the default key should be created implicitly. */
  create: boolean
}

export interface LoadedKey {
  privateKey: PrivateKey
  peerId: PeerId
  /** True when the file did not exist and was generated now. */
  created: boolean
}

export async function loadOrCreateKey (path: string, options: LoadOrCreateKeyOptions): Promise<LoadedKey> {
  try {
    const privateKey = await loadKeyFile(path)
    return { privateKey, peerId: peerIdFromKey(privateKey), created: false }
  } catch (err) {
    if (!(err instanceof KeyFileMissingError) || !options.create) throw err
  }
  try {
    const privateKey = await generateKeyFile(path)
    return { privateKey, peerId: peerIdFromKey(privateKey), created: true }
  } catch (err) {
    // another process created it between our read and write: use theirs
    if (err instanceof KeyFileExistsError) {
      const privateKey = await loadKeyFile(path)
      return { privateKey, peerId: peerIdFromKey(privateKey), created: false }
    }
    throw err
  }
}

export function peerIdFromKey (privateKey: PrivateKey): PeerId {
  return peerIdFromPrivateKey(privateKey)
}
