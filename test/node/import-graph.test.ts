/**
 * The layering, checked on the source: the API, the metrics and the CLI see a node only
 * through EngramNodePort (src/node/types.ts), never the store, gossip or discovery modules, the
 * test-only internals accessor, or libp2p's own packages. And files stay small.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const SRC = join(REPO, 'src')

/** Layers written against the port. */
const PORT_USERS = ['src/api/', 'src/cli/', 'src/daemon/']
/** Modules below the node: only src/node may wire them together. */
const BELOW_THE_NODE = ['src/gossip/', 'src/store/', 'src/discovery/', 'src/auth/', 'src/node/internals.ts']
/**
 * Packages of libp2p (and its transports and muxers) that a port user may import:
 * - @libp2p/interface: types only, plus the typed event target the port's events use;
 * - @libp2p/peer-id: parsing a PeerId string the operator typed.
 * Neither reaches into a running node. Any other libp2p, @libp2p/* or @chainsafe/* import
 * would be the network stack itself.
 */
const ALLOWED_LIBP2P = new Set(['@libp2p/interface', '@libp2p/peer-id'])
/** The one generated file exempt from the size bound (protons output, never edited by hand). */
const SIZE_EXEMPT = new Set(['src/gossip/pb/gossip.ts'])
const MAX_LINES = 300

function sourceFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return sourceFiles(path)
    return e.name.endsWith('.ts') ? [path] : []
  })
}

/** Repo-relative path with forward slashes, so the rules read the same on every OS. */
const rel = (path: string): string => relative(REPO, path).split(sep).join('/')

interface Import { from: string, specifier: string, target: string }

/** Every import of a file (static, re-export, side-effect and dynamic), resolved when relative. */
function importsOf (file: string): Import[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
  return info.importedFiles.map(({ fileName: specifier }) => {
    const target = specifier.startsWith('.') ? rel(resolve(dirname(file), specifier)).replace(/\.js$/, '.ts') : specifier
    return { from: rel(file), specifier, target }
  })
}

/** Why a port user may not import this; undefined when it may. */
function breach (imp: Import): string | undefined {
  const below = BELOW_THE_NODE.find(p => imp.target === p || imp.target.startsWith(p))
  if (below !== undefined) return `reaches below the node (${below})`
  if (imp.specifier.startsWith('.')) return undefined
  const isLibp2p = imp.specifier === 'libp2p' || imp.specifier.startsWith('libp2p/') ||
    imp.specifier.startsWith('@libp2p/') || imp.specifier.startsWith('@chainsafe/')
  if (isLibp2p && !ALLOWED_LIBP2P.has(imp.specifier)) return 'imports the libp2p stack (or a package\'s internals)'
  // a path into any package's files is its internals, whatever the package
  if (/\/(dist|src)\//.test(imp.specifier)) return 'imports a package\'s internal files'
  return undefined
}

const lineCount = (text: string): number => text.split('\n').length - (text.endsWith('\n') ? 1 : 0)

describe('source layout', () => {
  const files = sourceFiles(SRC)
  const imports = files.flatMap(importsOf)

  it('sees the imports it checks (the scanner is not blind)', () => {
    const node = imports.filter(i => i.from === 'src/node/engram-node.ts').map(i => i.target)
    assert.ok(node.includes('src/gossip/service.ts'), node.join(', '))
    assert.ok(node.includes('src/store/replica.ts'), node.join(', '))
    const start = imports.filter(i => i.from === 'src/cli/commands/start.ts').map(i => i.target)
    assert.ok(start.includes('src/node/engram-node.ts'), `dynamic imports are seen too: ${start.join(', ')}`)
  })

  it('the API, the metrics and the CLI import nothing below the node, nor libp2p itself', () => {
    const bad = imports
      .filter(i => PORT_USERS.some(p => i.from.startsWith(p)))
      .flatMap(i => { const why = breach(i); return why !== undefined ? [`${i.from} -> ${i.specifier}: ${why}`] : [] })
    assert.deepEqual(bad, [])
  })

  it('the API and the metrics reach the node only through the port (types.ts) and its errors', () => {
    const bad = imports
      .filter(i => i.from.startsWith('src/api/') || i.from.startsWith('src/daemon/'))
      .filter(i => i.target.startsWith('src/node/') && i.target !== 'src/node/types.ts' && i.target !== 'src/node/errors.ts')
      .map(i => `${i.from} -> ${i.specifier}`)
    assert.deepEqual(bad, [])
  })

  it('no file of the node, the API, the metrics or the CLI is over 300 lines', () => {
    const big = files
      .filter(f => ['src/node/', 'src/api/', 'src/cli/', 'src/daemon/', 'src/index.ts'].some(p => rel(f).startsWith(p)))
      .map(f => [rel(f), lineCount(readFileSync(f, 'utf8'))] as const)
      .filter(([, n]) => n > MAX_LINES)
    assert.deepEqual(big, [])
  })

  it('no source file is over 300 lines (generated protons code aside)', () => {
    const big = files
      .filter(f => !SIZE_EXEMPT.has(rel(f)))
      .map(f => [rel(f), lineCount(readFileSync(f, 'utf8'))] as const)
      .filter(([, n]) => n > MAX_LINES)
      .map(([path, n]) => `${path} (${n} lines)`)
    assert.deepEqual(big, [])
  })
})
