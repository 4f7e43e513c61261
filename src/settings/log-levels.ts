/** Log verbosity levels, from none to everything. */
export const LOG_LEVELS = ['silent', 'error', 'info', 'debug', 'trace'] as const
export type LogLevel = typeof LOG_LEVELS[number]

export function isLogLevel (s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s)
}
