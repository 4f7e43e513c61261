/** A user-facing CLI failure: printed as one line on stderr, exit code 1 (2 for usage). */
export class CliError extends Error {
  override name = 'CliError'
  constructor (message: string, readonly exitCode = 1) {
    super(message)
  }
}
