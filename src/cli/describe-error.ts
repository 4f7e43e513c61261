/** Turns any error into one clear line for the operator, with the fix where we know it. */
const KNOWN = new Set([
  'CliError', 'KeyFileMissingError', 'KeyFileCorruptError', 'KeyFilePermissionError', 'KeyFileExistsError',
  'SwarmKeyError', 'StoreFormatError', 'StoreCorruptionError', 'PatternNotFoundError', 'InvalidPatternError',
  'LimitExceededError', 'NoGossipPeersError', 'DataDirLockedError', 'NodeNotRunningError'
])

export function describeError (err: unknown): { message: string, exitCode: number } {
  const e = err as { name?: string, message?: string, code?: string, cause?: { code?: string }, exitCode?: number }
  if (e?.code === 'LEVEL_DATABASE_NOT_OPEN' && e.cause?.code === 'LEVEL_LOCKED') {
    return { message: 'the data directory is in use by another engram process (stop it, or use another --data)', exitCode: 1 }
  }
  if (e?.code === 'EADDRINUSE' || /EADDRINUSE/.test(String(e?.message))) {
    return { message: `${String(e?.message)}: another process listens on that port (pick another with --listen)`, exitCode: 1 }
  }
  // a bad setting is a usage error, like a bad flag that commander catches
  if (e?.name === 'InvalidSettingError') return { message: `error: ${String(e.message)}`, exitCode: e.exitCode ?? 1 }
  if (e?.name !== undefined && KNOWN.has(e.name)) return { message: String(e.message), exitCode: e.exitCode ?? 1 }
  return { message: `${String(e?.name ?? 'Error')}: ${String(e?.message ?? err)} (run with DEBUG=engram:* for details)`, exitCode: 1 }
}
