/** Option value parsers for commander: each throws InvalidArgumentError with a clear reason. */
import { InvalidArgumentError } from 'commander'
import { multiaddr } from '@multiformats/multiaddr'

export function collect (value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

export function parseMultiaddr (value: string): string {
  try {
    return multiaddr(value).toString()
  } catch (err: any) {
    throw new InvalidArgumentError(`not a multiaddr (${String(err?.message ?? err)}); example: /ip4/192.168.1.10/tcp/4001/p2p/12D3KooW...`)
  }
}

export function collectMultiaddr (value: string, previous: string[] | undefined): string[] {
  return collect(parseMultiaddr(value), previous)
}

export function intInRange (min: number, max: number): (value: string) => number {
  return (value: string) => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`)
    const n = Number(value)
    if (n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`)
    return n
  }
}

export function secondsPositive (value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 86_400) throw new InvalidArgumentError('expected seconds, a number > 0 and at most 86400')
  return n
}
