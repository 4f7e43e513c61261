/** Option value parsers for commander: each throws InvalidArgumentError with a clear reason. */
import { InvalidArgumentError } from 'commander'

export function collect (value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

export function intInRange (min: number, max: number): (value: string) => number {
  return (value: string) => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`)
    const n = Number(value)
    if (n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`)
    return n
  }
}
