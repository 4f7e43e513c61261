/**
 * Log levels and JSON logs over libp2p's component loggers (weald, a port of `debug`).
 * Components log as `engram:<component>` (plus `:error` and `:trace` variants), so a level
 * is just a namespace selection. DEBUG, when set in the environment, wins: it is the
 * finer tool and operators of libp2p software expect it to work.
 */
import debug from 'weald'
import { format } from 'node:util'

import type { LogLevel } from '../settings/log-levels.js'
export { LOG_LEVELS, isLogLevel, type LogLevel } from '../settings/log-levels.js'

const NAMESPACES: Record<LogLevel, string> = {
  silent: '',
  error: 'engram:*:error',
  info: 'engram:*,-engram:*:trace,-engram:*:debug',
  debug: 'engram:*,-engram:*:trace,libp2p:*:error',
  trace: 'engram:*,libp2p:*'
}

export interface LoggingOptions {
  level: LogLevel
  json: boolean
  /** where JSON lines go; default stderr */
  write?: (line: string) => void
}

function levelOf (namespace: string): string {
  if (namespace.endsWith(':error')) return 'error'
  if (namespace.endsWith(':trace')) return 'trace'
  if (namespace.endsWith(':debug')) return 'debug'
  return 'info'
}

type Hooks = { formatArgs: (args: unknown[]) => void, log: (...args: unknown[]) => void }
const d = debug as unknown as Hooks
const plain: Hooks = { formatArgs: d.formatArgs, log: d.log }

export function configureLogging (opts: LoggingOptions): void {
  const fromEnv = process.env.DEBUG
  const namespaces = fromEnv !== undefined && fromEnv !== '' ? fromEnv : NAMESPACES[opts.level]
  if (namespaces === '') debug.disable()
  else debug.enable(namespaces)
  if (!opts.json) {
    d.formatArgs = plain.formatArgs
    d.log = plain.log
    return
  }
  const write = opts.write ?? ((line: string) => { process.stderr.write(line) })
  // leave the arguments as they are: util.format below renders them into `msg`
  d.formatArgs = function () {}
  d.log = function (this: { namespace: string }, ...args: unknown[]) {
    const ns = this.namespace
    write(JSON.stringify({
      time: new Date().toISOString(),
      level: levelOf(ns),
      component: ns.replace(/:(error|trace|debug)$/, ''),
      msg: format(...args)
    }) + '\n')
  }
}
