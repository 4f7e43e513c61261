/**
 * The npm package as users get it: `npm pack` (which must build dist/ itself), the tarball's file
 * list, then a global install into an empty temp prefix and the installed `engram` run from there.
 *
 * The pack runs in a temp copy of the repo (without dist/, node_modules is linked), so it checks a
 * state with no build output and never rewrites this checkout's dist/ while other tests use it.
 * Only loopback and the npm registry (for the install's dependencies) are used.
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { tmpdir, setPriority } from 'node:os'
import { delimiter, dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO = fileURLToPath(new URL('../../', import.meta.url))

/** Top-level entries of the checkout that are not copied for the pack (build output, local state). */
const NOT_COPIED = new Set(['node_modules', '.git', 'dist', 'data'])

/** Everything the tarball may hold: what runs, the schema, docs; npm adds package.json/README/LICENSE. */
const ALLOWED = /^(package\.json|README(\.md)?|LICEN[CS]E(\.\w+)?|bin\/engram|dist\/.+\.(js|d\.ts)|src\/gossip\/pb\/gossip\.proto|docs\/[^/]+\.md)$/

const root = mkdtempSync(join(tmpdir(), 'engram-pack-'))
const children = new Set<ChildProcess>()

after(() => {
  for (const child of children) {
    try { process.kill(-child.pid!, 'SIGKILL') } catch {}
  }
  rmSync(root, { recursive: true, force: true })
})

/** The environment of a user's shell: no npm script variables, ENGRAM_* settings or test runner state. */
function userEnv (): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_registry', 'npm_config_cache', 'npm_config_userconfig'])
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue
    if (k.startsWith('npm_') && !keep.has(k)) continue
    if (k.startsWith('ENGRAM_') || k === 'NODE_OPTIONS' || k === 'NODE_TEST_CONTEXT') continue
    env[k] = v
  }
  // `#!/usr/bin/env node` in bin/engram and npm's own scripts use this node
  env.PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`
  return env
}

interface Result { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }

function report (what: string, r: Result): string {
  return `${what}: exit ${r.code ?? r.signal}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`
}

interface Started { child: ChildProcess, stdout: () => string, stderr: () => string, exited: Promise<Result> }

/** Spawns in its own process group (so a timeout kills npm's children too), output captured. */
function start (cmd: string, args: string[], opts: { cwd: string, lowPriority?: boolean }): Started {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  children.add(child)
  // builds and installs share the machine with other test runs
  if (opts.lowPriority === true && child.pid !== undefined) {
    try { setPriority(child.pid, 10) } catch {}
  }
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', d => { stdout += String(d) })
  child.stderr!.on('data', d => { stderr += String(d) })
  const exited = (async () => {
    const [code, signal] = await once(child, 'exit') as [number | null, NodeJS.Signals | null]
    children.delete(child)
    return { code, signal, stdout, stderr }
  })()
  return { child, stdout: () => stdout, stderr: () => stderr, exited }
}

/** Waits for the exit at most `ms`, then kills the process group and fails. */
async function finish (p: Started, what: string, ms: number): Promise<Result> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>(resolve => { timer = setTimeout(() => resolve('timeout'), ms) })
  const r = await Promise.race([p.exited, timeout])
  clearTimeout(timer)
  if (r === 'timeout') {
    try { process.kill(-p.child.pid!, 'SIGKILL') } catch {}
    const killed = await p.exited
    assert.fail(report(`${what} did not finish within ${ms / 1000} s`, killed))
  }
  return r
}

async function run (cmd: string, args: string[], opts: { cwd: string, timeout: number, lowPriority?: boolean }): Promise<Result> {
  return await finish(start(cmd, args, opts), `${cmd} ${args.join(' ')}`, opts.timeout)
}

/** Waits (bounded) until the output matches, failing early if the process exits. */
async function waitForOutput (p: Started, re: RegExp, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  let exited: Result | undefined
  void p.exited.then(r => { exited = r })
  while (!re.test(p.stdout())) {
    if (exited !== undefined) assert.fail(report(`${what} exited before printing ${re}`, exited))
    if (Date.now() > deadline) assert.fail(`${what} did not print ${re} within ${ms / 1000} s\n--- stdout\n${p.stdout()}\n--- stderr\n${p.stderr()}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

function filesEndingIn (dir: string, ext: string, not?: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...filesEndingIn(p, ext, not))
    else if (e.name.endsWith(ext) && (not === undefined || !e.name.endsWith(not))) out.push(p)
  }
  return out
}

/** Packages a built module imports by bare specifier ('@scope/name/sub' -> '@scope/name'). */
function importedPackages (file: string): string[] {
  const code = readFileSync(file, 'utf8')
  const out: string[] = []
  for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)) {
    const spec = m[1]!
    if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:') || builtinModules.includes(spec)) continue
    const parts = spec.split('/')
    out.push(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!)
  }
  return out
}

test('npm package: pack, global install, run the installed engram', { timeout: 600_000 }, async t => {
  const copy = join(root, 'checkout')
  const packed = join(root, 'packed')
  const prefix = join(root, 'prefix')
  const work = join(root, 'work')
  for (const d of [packed, prefix, work]) mkdirSync(d)

  let tarball = ''
  let entries: string[] = []

  await t.test('npm pack builds dist/ and packs only what runs', async st => {
    cpSync(REPO, copy, {
      recursive: true,
      filter: src => {
        const rel = relative(REPO, src)
        if (rel === '') return true
        const top = rel.split(sep)[0]!
        return !NOT_COPIED.has(top) && !rel.startsWith(join('bench', 'tmp')) && !rel.endsWith('.log')
      }
    })
    symlinkSync(join(REPO, 'node_modules'), join(copy, 'node_modules'), 'dir')
    // local state that must never be shipped, and a stale build file the pack must not pick up
    mkdirSync(join(copy, 'dist'))
    writeFileSync(join(copy, 'dist', 'stale-module.js'), 'export {}\n')
    mkdirSync(join(copy, 'keys'), { recursive: true })
    writeFileSync(join(copy, 'keys', 'planted.key'), 'not a key\n')
    mkdirSync(join(copy, 'data'))
    writeFileSync(join(copy, 'data', 'planted'), 'x\n')

    const r = await run('npm', ['pack', '--pack-destination', packed], { cwd: copy, timeout: 180_000, lowPriority: true })
    assert.equal(r.code, 0, report('npm pack', r))

    const tgz = readdirSync(packed).filter(f => f.endsWith('.tgz'))
    assert.equal(tgz.length, 1, `expected one tarball, got ${tgz.join(', ')}`)
    tarball = join(packed, tgz[0]!)

    const list = await run('tar', ['-tzf', tarball], { cwd: root, timeout: 30_000 })
    assert.equal(list.code, 0, report('tar -tzf', list))
    entries = list.stdout.split('\n').filter(l => l !== '' && !l.endsWith('/')).map(l => l.replace(/^package\//, ''))
    st.diagnostic(`tarball ${tgz[0]}: ${entries.length} files, ${statSync(tarball).size} bytes`)

    for (const must of ['package.json', 'README.md', 'bin/engram', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'src/gossip/pb/gossip.proto']) {
      assert.ok(entries.includes(must), `tarball lacks ${must}`)
    }
    assert.ok(entries.some(e => e.startsWith('docs/')), 'tarball has no docs')
    // every source module was built and shipped
    const missing = filesEndingIn(join(copy, 'src'), '.ts', '.d.ts')
      .map(p => relative(join(copy, 'src'), p).split(sep).join('/').replace(/\.ts$/, '.js'))
      .filter(js => !entries.includes(`dist/${js}`))
    assert.deepEqual(missing, [], 'source modules missing from dist/ in the tarball')

    // every package the shipped code imports is a declared dependency (not only hoisted from another)
    const pkg = JSON.parse(readFileSync(join(copy, 'package.json'), 'utf8')) as { name: string, dependencies?: Record<string, string> }
    const undeclared = new Set<string>()
    for (const file of filesEndingIn(join(copy, 'dist'), '.js')) {
      for (const name of importedPackages(file)) {
        if (name !== pkg.name && pkg.dependencies?.[name] === undefined) undeclared.add(`${name} (${relative(copy, file)})`)
      }
    }
    assert.deepEqual([...undeclared], [], 'imported by dist/ but not in package.json dependencies')

    for (const e of entries) {
      assert.ok(!/^(test|bench|keys|data|\.ci)\//.test(e), `tarball ships ${e}`)
      assert.ok(!e.endsWith('.map'), `tarball ships the source map ${e}`)
      assert.ok(e !== 'dist/stale-module.js', 'tarball ships a stale dist/ file (no clean build)')
      assert.match(e, ALLOWED, `tarball ships an unexpected file ${e}`)
    }
  })

  const bin = join(prefix, 'bin', 'engram')
  const installed = join(prefix, 'lib', 'node_modules', 'engram-node')

  await t.test('installs globally into an empty prefix', async () => {
    assert.ok(tarball !== '', 'no tarball (pack failed)')
    const r = await run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', tarball],
      { cwd: work, timeout: 300_000, lowPriority: true })
    assert.equal(r.code, 0, report('npm install -g', r))
    assert.ok(existsSync(bin), `${bin} not created`)
    assert.ok(existsSync(join(installed, 'dist', 'cli', 'main.js')), 'dist/cli/main.js not installed')
  })

  await t.test('classic-level (native, prebuilt) loads from the install', async () => {
    const code = `
      const where = import.meta.resolve('classic-level')
      const { ClassicLevel } = await import('classic-level')
      const db = new ClassicLevel(process.argv[1])
      await db.open()
      await db.put('k', 'v')
      console.log(where)
      console.log(await db.get('k'))
      await db.close()
    `
    const r = await run(process.execPath, ['--input-type=module', '-e', code, join(work, 'level-check')], { cwd: installed, timeout: 30_000 })
    assert.equal(r.code, 0, report('classic-level check', r))
    const [where, value] = r.stdout.trim().split('\n')
    assert.ok(fileURLToPath(where!).startsWith(prefix), `classic-level resolved outside the install: ${where}`)
    assert.equal(value, 'v')
  })

  await t.test('engram --help', async () => {
    const r = await run(bin, ['--help'], { cwd: work, timeout: 30_000 })
    assert.equal(r.code, 0, report('engram --help', r))
    assert.match(r.stdout, /Usage: engram/)
    assert.match(r.stdout, /\bstart\b/)
  })

  const key = join(work, 'k.key')

  await t.test('engram key generate writes a 0600 key', async () => {
    const r = await run(bin, ['key', 'generate', key], { cwd: work, timeout: 30_000 })
    assert.equal(r.code, 0, report('engram key generate', r))
    assert.ok(existsSync(key), 'key file not written')
    const st = statSync(key)
    assert.equal(st.mode & 0o777, 0o600, `key mode is ${(st.mode & 0o777).toString(8)}`)
    assert.ok(st.size > 0, 'key file is empty')
  })

  await t.test('engram start runs and stops cleanly on SIGTERM', async () => {
    assert.ok(existsSync(key), 'no key (key generate failed)')
    const node = start(bin, [
      'start',
      '--data', join(work, 'data'),
      '--key', key,
      '--listen', '/ip4/127.0.0.1/tcp/0',
      '--api', '127.0.0.1:0'
    ], { cwd: work })
    await waitForOutput(node, /engram node started[\s\S]*\napi: \S+/, 60_000, 'engram start')
    process.kill(node.child.pid!, 'SIGTERM')
    const r = await finish(node, 'engram start after SIGTERM', 30_000)
    assert.equal(r.signal, null, report('engram start', r))
    assert.equal(r.code, 0, report('engram start', r))
  })
})
