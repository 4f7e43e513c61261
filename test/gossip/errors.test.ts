/** Our errors are libp2p's kinds where one fits, and keep the names reports and logs show. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { InvalidMessageError as Libp2pInvalidMessageError, ProtocolError, StreamResetError, TimeoutError } from '@libp2p/interface'
import { ProtocolViolationError as ReconcileViolation } from '../../src/core/reconcile.js'
import {
  asSessionError, InvalidMessageError, isPeerGone, isTimeout, NoGossipPeersError, ProtocolViolationError, ServiceStoppingError,
  SessionTimeoutError, TooManySessionsError
} from '../../src/gossip/errors.js'
import { NoGossipPeersError as FromService } from '../../src/gossip/service.js'

describe('gossip errors', () => {
  it('subclass libp2p errors and keep their own names', () => {
    const invalid = new InvalidMessageError('bad frame')
    assert.ok(invalid instanceof Libp2pInvalidMessageError)
    assert.equal(invalid.name, 'InvalidMessageError')
    const timeout = new SessionTimeoutError('slow')
    assert.ok(timeout instanceof TimeoutError)
    assert.equal(timeout.name, 'SessionTimeoutError')
    assert.equal(new TooManySessionsError().name, 'TooManySessionsError')
    assert.equal(new ServiceStoppingError().name, 'ServiceStoppingError')
    assert.equal(new NoGossipPeersError().name, 'NoGossipPeersError')
    assert.equal(FromService, NoGossipPeersError, 'the old import path gives the same class')
    assert.ok(new ProtocolViolationError('x') instanceof ProtocolError)
  })

  it('a session hands on the reconciler\'s violation as libp2p\'s ProtocolError, other errors as they are', () => {
    const core = new ReconcileViolation('peer needs a key we did not list')
    const err = asSessionError(core) as Error
    assert.ok(err instanceof ProtocolError)
    assert.equal(err.name, 'ProtocolViolationError')
    assert.equal(err.message, core.message)
    assert.equal(err.cause, core)
    const other = new InvalidMessageError('bad')
    assert.equal(asSessionError(other), other)
  })

  it('classify timeouts and a peer going away', async () => {
    assert.ok(isTimeout(new SessionTimeoutError()))
    const signal = AbortSignal.timeout(1)
    await new Promise(resolve => signal.addEventListener('abort', resolve))
    assert.ok(isTimeout(signal.reason), 'the DOMException of AbortSignal.timeout')
    assert.ok(!isTimeout(new Error('x')))
    assert.ok(isPeerGone(new StreamResetError()))
    assert.ok(isPeerGone(new ServiceStoppingError()))
    assert.ok(!isPeerGone(new InvalidMessageError()))
    assert.ok(!isPeerGone(undefined))
  })
})
