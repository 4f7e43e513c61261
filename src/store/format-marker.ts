/** The format marker that tells our LevelDB from any other, and its version from later ones. */
import { EMPTY_HASH } from '../core/merkle.js'
import { StoreFormatError } from './errors.js'
import {
  decodeFormat, encodeCounter, encodeFormat, META_COUNTER, META_FORMAT, META_ROOT, META_SEQ, metaKey, STORE_FORMAT_VERSION
} from './layout.js'
import type { RawDb } from './recovery.js'

/** Writes the format marker into an empty database, or refuses one that is not ours. */
export async function ensureFormat (db: RawDb, dir: string, sync: boolean): Promise<void> {
  const marker = await db.get(metaKey(META_FORMAT))
  if (marker === undefined) {
    if ((await db.keys({ limit: 1 }).all()).length > 0) {
      throw new StoreFormatError(`${dir} is not an Engram data directory: it holds a LevelDB without an Engram format marker`)
    }
    await db.batch([
      { type: 'put', key: metaKey(META_FORMAT), value: encodeFormat() },
      { type: 'put', key: metaKey(META_COUNTER), value: encodeCounter(0) },
      { type: 'put', key: metaKey(META_ROOT), value: EMPTY_HASH },
      { type: 'put', key: metaKey(META_SEQ), value: encodeCounter(0) }
    ], { sync })
    return
  }
  const version = decodeFormat(marker)
  if (version === undefined) throw new StoreFormatError(`${dir} is not an Engram data directory: its format marker is foreign`)
  if (version === '1') {
    throw new StoreFormatError(`${dir} holds an Engram store of format 1, from before signed writes: its patterns carry no ` +
      'signatures, so no node of this version would take them. Keep their content with the earlier build ' +
      '(`engram pattern list --json` while it runs), move the data dir aside, start this build on a new one ' +
      'and write them back (`engram pattern import`)')
  }
  if (version !== String(STORE_FORMAT_VERSION)) {
    throw new StoreFormatError(`${dir} holds an Engram store of format version ${JSON.stringify(version)}; this build reads version ${STORE_FORMAT_VERSION}`)
  }
}
