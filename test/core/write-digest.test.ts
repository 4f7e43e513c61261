/**
 * What a writer signs, pinned to docs/protocol.md ("Patterns: signed writes") by a second,
 * from-scratch encoding here: a change to these bytes would make every signature of an earlier
 * build fail to check, so it must be a deliberate, documented one.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { applyWrite } from '../../src/core/pattern.js'
import { bodyDigest, type VersionBody, writeMessage } from '../../src/core/write-digest.js'
// the frames' length prefix, an unsigned LEB128 varint written apart from the core's encoder
import { encodeVarint as varint } from '../../src/gossip/frame-buffer.js'

const sha = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
const str = (s: string): Uint8Array => Buffer.concat([varint(utf8(s).length), utf8(s)])
const f64 = (v: number): Uint8Array => {
  const b = Buffer.alloc(8)
  b.writeDoubleBE(v)
  return b
}
const cat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts))

/** The documented v3 body: 0x80 0x00, the deps' count and digest, the flags, then if live the confidence and the content's size and digest. */
function documentedBody (deps: Array<[string, number]>, deleted: boolean, confidence: number, summary: string | undefined, episodes: string[]): Uint8Array {
  const sorted = [...deps].sort(([a], [b]) => Buffer.compare(utf8(a), utf8(b)))
  const depsBytes = cat(varint(sorted.length), ...sorted.flatMap(([node, counter]) => [str(node), varint(counter)]))
  const head = cat(Uint8Array.of(0x80, 0x00), varint(sorted.length), sha(depsBytes))
  if (deleted) return cat(head, Uint8Array.of(1))
  const content = cat(...(summary === undefined ? [] : [str(summary)]), varint(episodes.length), ...episodes.map(str))
  return cat(head, Uint8Array.of(summary === undefined ? 0 : 2), f64(confidence), varint(content.length), sha(content))
}

function body (deps: Array<[string, number]>, deleted: boolean, confidence: number, summary: string | undefined, episodes: string[]): VersionBody {
  return { deps: new Map(deps), depsByDigest: true, deleted, confidence, episodes, ...(summary === undefined ? {} : { summary }) }
}

describe('the signed write (docs/protocol.md)', () => {
  it('a body digest is sha256 of the documented v3 body: a first write, a later one, a tombstone', () => {
    const cases: Array<Parameters<typeof documentedBody>> = [
      [[], false, 0.8, 'a summary, with ü', ['e1', 'e2']],
      [[['12D3KooWB', 3], ['12D3KooWA', 130]], false, 0.25, undefined, ['only']],
      [[['12D3KooWA', 7]], true, 0, undefined, []]
    ]
    for (const c of cases) assert.deepEqual(bodyDigest(body(...c)), sha(documentedBody(...c)), JSON.stringify(c))
  })

  it('the message is sha256 of the domain, the key, the writer, the counter and the body digest; a real write signs it', () => {
    const signed: Uint8Array[] = []
    const author = { node: '12D3KooWWriter', sign: (m: Uint8Array) => { signed.push(m); return new Uint8Array(64) } }
    const state = applyWrite(undefined, 'topic/ü', { confidence: 0.5, summary: 's', addEpisodes: ['e2', 'e1'] }, author, 9)
    const expectedBody = sha(documentedBody([], false, 0.5, 's', ['e1', 'e2']))
    const expected = sha(utf8('engram/write/2\n'), str('topic/ü'), str('12D3KooWWriter'), varint(9), expectedBody)
    assert.deepEqual(signed, [expected])
    const v = state.versions[0]!
    assert.deepEqual(writeMessage('topic/ü', v.dot, bodyDigest(v)), expected)
  })
})
