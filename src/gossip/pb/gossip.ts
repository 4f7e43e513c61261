import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface Hello {
  version: number
  root: Uint8Array<ArrayBuffer>
  count: bigint
}

export namespace Hello {
  let _codec: Codec<Hello>

  export const codec = (): Codec<Hello> => {
    if (_codec == null) {
      _codec = message<Hello>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.root != null && obj.root.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.root)
        }

        if ((obj.count != null && obj.count !== 0n)) {
          w.uint32(24)
          w.uint64(obj.count)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          root: uint8ArrayAlloc(0),
          count: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.version = reader.uint32()
              break
            }
            case 2: {
              obj.root = reader.bytes()
              break
            }
            case 3: {
              obj.count = reader.uint64()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.root`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.count`,
                value: reader.uint64()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface HelloVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface HelloRootFieldEvent {
    field: '$.root'
    value: Uint8Array<ArrayBuffer>
  }

  export interface HelloCountFieldEvent {
    field: '$.count'
    value: bigint
  }

  export function encode (obj: Partial<Hello>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Hello.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Hello>): Hello {
    return decodeMessage(buf, Hello.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Hello>): Generator<HelloVersionFieldEvent | HelloRootFieldEvent | HelloCountFieldEvent> {
    return streamMessage(buf, Hello.codec(), opts)
  }
}

export interface Probe {
  prefix: string
  entries: Uint8Array<ArrayBuffer>
}

export namespace Probe {
  let _codec: Codec<Probe>

  export const codec = (): Codec<Probe> => {
    if (_codec == null) {
      _codec = message<Probe>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.prefix != null && obj.prefix !== '')) {
          w.uint32(10)
          w.string(obj.prefix)
        }

        if ((obj.entries != null && obj.entries.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.entries)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          prefix: '',
          entries: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.prefix = reader.string()
              break
            }
            case 2: {
              obj.entries = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.prefix`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.entries`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ProbePrefixFieldEvent {
    field: '$.prefix'
    value: string
  }

  export interface ProbeEntriesFieldEvent {
    field: '$.entries'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Probe>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Probe.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Probe>): Probe {
    return decodeMessage(buf, Probe.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Probe>): Generator<ProbePrefixFieldEvent | ProbeEntriesFieldEvent> {
    return streamMessage(buf, Probe.codec(), opts)
  }
}

export interface Request {
  descend: string[]
  probes: Probe[]
  pullPrefixes: string[]
  done: boolean
}

export namespace Request {
  let _codec: Codec<Request>

  export const codec = (): Codec<Request> => {
    if (_codec == null) {
      _codec = message<Request>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.descend != null && obj.descend.length > 0) {
          for (const value of obj.descend) {
            w.uint32(10)
            w.string(value)
          }
        }

        if (obj.probes != null && obj.probes.length > 0) {
          for (const value of obj.probes) {
            w.uint32(18)
            Probe.codec().encode(value, w)
          }
        }

        if (obj.pullPrefixes != null && obj.pullPrefixes.length > 0) {
          for (const value of obj.pullPrefixes) {
            w.uint32(26)
            w.string(value)
          }
        }

        if ((obj.done != null && obj.done !== false)) {
          w.uint32(32)
          w.bool(obj.done)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          descend: [],
          probes: [],
          pullPrefixes: [],
          done: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.descend != null && obj.descend.length === opts.limits.descend) {
                throw new MaxLengthError('Decode error - repeated field "descend" had too many elements')
              }

              obj.descend.push(reader.string())
              break
            }
            case 2: {
              if (opts.limits?.probes != null && obj.probes.length === opts.limits.probes) {
                throw new MaxLengthError('Decode error - repeated field "probes" had too many elements')
              }

              obj.probes.push(Probe.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.probes$
              }))
              break
            }
            case 3: {
              if (opts.limits?.pullPrefixes != null && obj.pullPrefixes.length === opts.limits.pullPrefixes) {
                throw new MaxLengthError('Decode error - repeated field "pullPrefixes" had too many elements')
              }

              obj.pullPrefixes.push(reader.string())
              break
            }
            case 4: {
              obj.done = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          descend: 0,
          probes: 0,
          pullPrefixes: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.descend != null && obj.descend === opts.limits.descend) {
                throw new MaxLengthError('Streaming decode error - repeated field "descend" had too many elements')
              }

              yield {
                field: `${prefix}.descend[]`,
                index: obj.descend,
                value: reader.string()
              }

              obj.descend++

              break
            }
            case 2: {
              if (opts.limits?.probes != null && obj.probes === opts.limits.probes) {
                throw new MaxLengthError('Streaming decode error - repeated field "probes" had too many elements')
              }

              for (const evt of Probe.codec().stream(reader, reader.uint32(), `${prefix}.probes[]`, {
                limits: opts.limits?.probes$
              })) {
                yield {
                  ...evt,
                  index: obj.probes
                }
              }

              obj.probes++

              break
            }
            case 3: {
              if (opts.limits?.pullPrefixes != null && obj.pullPrefixes === opts.limits.pullPrefixes) {
                throw new MaxLengthError('Streaming decode error - repeated field "pullPrefixes" had too many elements')
              }

              yield {
                field: `${prefix}.pullPrefixes[]`,
                index: obj.pullPrefixes,
                value: reader.string()
              }

              obj.pullPrefixes++

              break
            }
            case 4: {
              yield {
                field: `${prefix}.done`,
                value: reader.bool()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface RequestDescendFieldEvent {
    field: '$.descend[]'
    index: number
    value: string
  }

  export interface RequestProbesPrefixFieldEvent {
    field: '$.probes[].prefix'
    value: string
    index: number
  }

  export interface RequestProbesEntriesFieldEvent {
    field: '$.probes[].entries'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface RequestPullPrefixesFieldEvent {
    field: '$.pullPrefixes[]'
    index: number
    value: string
  }

  export interface RequestDoneFieldEvent {
    field: '$.done'
    value: boolean
  }

  export function encode (obj: Partial<Request>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Request.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Request>): Request {
    return decodeMessage(buf, Request.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Request>): Generator<RequestDescendFieldEvent | RequestProbesPrefixFieldEvent | RequestProbesEntriesFieldEvent | RequestPullPrefixesFieldEvent | RequestDoneFieldEvent> {
    return streamMessage(buf, Request.codec(), opts)
  }
}

export interface Reply {
  inSync: boolean
  parents: string[]
  childHashes: Uint8Array<ArrayBuffer>
  childCounts: bigint[]
  need: Uint8Array<ArrayBuffer>[]
  busy: boolean
  end: boolean
  retryAfterMs: number
}

export namespace Reply {
  let _codec: Codec<Reply>

  export const codec = (): Codec<Reply> => {
    if (_codec == null) {
      _codec = message<Reply>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.inSync != null && obj.inSync !== false)) {
          w.uint32(8)
          w.bool(obj.inSync)
        }

        if (obj.parents != null && obj.parents.length > 0) {
          for (const value of obj.parents) {
            w.uint32(18)
            w.string(value)
          }
        }

        if ((obj.childHashes != null && obj.childHashes.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.childHashes)
        }

        if (obj.childCounts != null && obj.childCounts.length > 0) {
          for (const value of obj.childCounts) {
            w.uint32(32)
            w.uint64(value)
          }
        }

        if (obj.need != null && obj.need.length > 0) {
          for (const value of obj.need) {
            w.uint32(42)
            w.bytes(value)
          }
        }

        if ((obj.busy != null && obj.busy !== false)) {
          w.uint32(48)
          w.bool(obj.busy)
        }

        if ((obj.end != null && obj.end !== false)) {
          w.uint32(56)
          w.bool(obj.end)
        }

        if ((obj.retryAfterMs != null && obj.retryAfterMs !== 0)) {
          w.uint32(64)
          w.uint32(obj.retryAfterMs)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          inSync: false,
          parents: [],
          childHashes: uint8ArrayAlloc(0),
          childCounts: [],
          need: [],
          busy: false,
          end: false,
          retryAfterMs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.inSync = reader.bool()
              break
            }
            case 2: {
              if (opts.limits?.parents != null && obj.parents.length === opts.limits.parents) {
                throw new MaxLengthError('Decode error - repeated field "parents" had too many elements')
              }

              obj.parents.push(reader.string())
              break
            }
            case 3: {
              obj.childHashes = reader.bytes()
              break
            }
            case 4: {
              if (opts.limits?.childCounts != null && obj.childCounts.length === opts.limits.childCounts) {
                throw new MaxLengthError('Decode error - repeated field "childCounts" had too many elements')
              }

              obj.childCounts.push(reader.uint64())
              break
            }
            case 5: {
              if (opts.limits?.need != null && obj.need.length === opts.limits.need) {
                throw new MaxLengthError('Decode error - repeated field "need" had too many elements')
              }

              obj.need.push(reader.bytes())
              break
            }
            case 6: {
              obj.busy = reader.bool()
              break
            }
            case 7: {
              obj.end = reader.bool()
              break
            }
            case 8: {
              obj.retryAfterMs = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          parents: 0,
          childCounts: 0,
          need: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.inSync`,
                value: reader.bool()
              }
              break
            }
            case 2: {
              if (opts.limits?.parents != null && obj.parents === opts.limits.parents) {
                throw new MaxLengthError('Streaming decode error - repeated field "parents" had too many elements')
              }

              yield {
                field: `${prefix}.parents[]`,
                index: obj.parents,
                value: reader.string()
              }

              obj.parents++

              break
            }
            case 3: {
              yield {
                field: `${prefix}.childHashes`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              if (opts.limits?.childCounts != null && obj.childCounts === opts.limits.childCounts) {
                throw new MaxLengthError('Streaming decode error - repeated field "childCounts" had too many elements')
              }

              yield {
                field: `${prefix}.childCounts[]`,
                index: obj.childCounts,
                value: reader.uint64()
              }

              obj.childCounts++

              break
            }
            case 5: {
              if (opts.limits?.need != null && obj.need === opts.limits.need) {
                throw new MaxLengthError('Streaming decode error - repeated field "need" had too many elements')
              }

              yield {
                field: `${prefix}.need[]`,
                index: obj.need,
                value: reader.bytes()
              }

              obj.need++

              break
            }
            case 6: {
              yield {
                field: `${prefix}.busy`,
                value: reader.bool()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.end`,
                value: reader.bool()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.retryAfterMs`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ReplyInSyncFieldEvent {
    field: '$.inSync'
    value: boolean
  }

  export interface ReplyParentsFieldEvent {
    field: '$.parents[]'
    index: number
    value: string
  }

  export interface ReplyChildHashesFieldEvent {
    field: '$.childHashes'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ReplyChildCountsFieldEvent {
    field: '$.childCounts[]'
    index: number
    value: bigint
  }

  export interface ReplyNeedFieldEvent {
    field: '$.need[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface ReplyBusyFieldEvent {
    field: '$.busy'
    value: boolean
  }

  export interface ReplyEndFieldEvent {
    field: '$.end'
    value: boolean
  }

  export interface ReplyRetryAfterMsFieldEvent {
    field: '$.retryAfterMs'
    value: number
  }

  export function encode (obj: Partial<Reply>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Reply.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Reply>): Reply {
    return decodeMessage(buf, Reply.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Reply>): Generator<ReplyInSyncFieldEvent | ReplyParentsFieldEvent | ReplyChildHashesFieldEvent | ReplyChildCountsFieldEvent | ReplyNeedFieldEvent | ReplyBusyFieldEvent | ReplyEndFieldEvent | ReplyRetryAfterMsFieldEvent> {
    return streamMessage(buf, Reply.codec(), opts)
  }
}

export interface Patterns {
  patterns: Uint8Array<ArrayBuffer>[]
  push: boolean
}

export namespace Patterns {
  let _codec: Codec<Patterns>

  export const codec = (): Codec<Patterns> => {
    if (_codec == null) {
      _codec = message<Patterns>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.patterns != null && obj.patterns.length > 0) {
          for (const value of obj.patterns) {
            w.uint32(10)
            w.bytes(value)
          }
        }

        if ((obj.push != null && obj.push !== false)) {
          w.uint32(16)
          w.bool(obj.push)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          patterns: [],
          push: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.patterns != null && obj.patterns.length === opts.limits.patterns) {
                throw new MaxLengthError('Decode error - repeated field "patterns" had too many elements')
              }

              obj.patterns.push(reader.bytes())
              break
            }
            case 2: {
              obj.push = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          patterns: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.patterns != null && obj.patterns === opts.limits.patterns) {
                throw new MaxLengthError('Streaming decode error - repeated field "patterns" had too many elements')
              }

              yield {
                field: `${prefix}.patterns[]`,
                index: obj.patterns,
                value: reader.bytes()
              }

              obj.patterns++

              break
            }
            case 2: {
              yield {
                field: `${prefix}.push`,
                value: reader.bool()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface PatternsPatternsFieldEvent {
    field: '$.patterns[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface PatternsPushFieldEvent {
    field: '$.push'
    value: boolean
  }

  export function encode (obj: Partial<Patterns>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Patterns.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Patterns>): Patterns {
    return decodeMessage(buf, Patterns.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Patterns>): Generator<PatternsPatternsFieldEvent | PatternsPushFieldEvent> {
    return streamMessage(buf, Patterns.codec(), opts)
  }
}

export interface Frame {
  hello?: Hello
  request?: Request
  reply?: Reply
  patterns?: Patterns
}

export namespace Frame {
  let _codec: Codec<Frame>

  export const codec = (): Codec<Frame> => {
    if (_codec == null) {
      _codec = message<Frame>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.hello != null) {
          w.uint32(10)
          Hello.codec().encode(obj.hello, w)
        }

        if (obj.request != null) {
          w.uint32(18)
          Request.codec().encode(obj.request, w)
        }

        if (obj.reply != null) {
          w.uint32(26)
          Reply.codec().encode(obj.reply, w)
        }

        if (obj.patterns != null) {
          w.uint32(34)
          Patterns.codec().encode(obj.patterns, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.hello = Hello.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.hello
              })
              break
            }
            case 2: {
              obj.request = Request.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.request
              })
              break
            }
            case 3: {
              obj.reply = Reply.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.reply
              })
              break
            }
            case 4: {
              obj.patterns = Patterns.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.patterns
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * Hello.codec().stream(reader, reader.uint32(), `${prefix}.hello`, {
                limits: opts.limits?.hello
              })

              break
            }
            case 2: {
              yield * Request.codec().stream(reader, reader.uint32(), `${prefix}.request`, {
                limits: opts.limits?.request
              })

              break
            }
            case 3: {
              yield * Reply.codec().stream(reader, reader.uint32(), `${prefix}.reply`, {
                limits: opts.limits?.reply
              })

              break
            }
            case 4: {
              yield * Patterns.codec().stream(reader, reader.uint32(), `${prefix}.patterns`, {
                limits: opts.limits?.patterns
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface FrameHelloVersionFieldEvent {
    field: '$.hello.version'
    value: number
  }

  export interface FrameHelloRootFieldEvent {
    field: '$.hello.root'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FrameHelloCountFieldEvent {
    field: '$.hello.count'
    value: bigint
  }

  export interface FrameRequestDescendFieldEvent {
    field: '$.request.descend[]'
    index: number
    value: string
  }

  export interface FrameRequestProbesPrefixFieldEvent {
    field: '$.request.probes[].prefix'
    value: string
    index: number
  }

  export interface FrameRequestProbesEntriesFieldEvent {
    field: '$.request.probes[].entries'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface FrameRequestPullPrefixesFieldEvent {
    field: '$.request.pullPrefixes[]'
    index: number
    value: string
  }

  export interface FrameRequestDoneFieldEvent {
    field: '$.request.done'
    value: boolean
  }

  export interface FrameReplyInSyncFieldEvent {
    field: '$.reply.inSync'
    value: boolean
  }

  export interface FrameReplyParentsFieldEvent {
    field: '$.reply.parents[]'
    index: number
    value: string
  }

  export interface FrameReplyChildHashesFieldEvent {
    field: '$.reply.childHashes'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FrameReplyChildCountsFieldEvent {
    field: '$.reply.childCounts[]'
    index: number
    value: bigint
  }

  export interface FrameReplyNeedFieldEvent {
    field: '$.reply.need[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface FrameReplyBusyFieldEvent {
    field: '$.reply.busy'
    value: boolean
  }

  export interface FrameReplyEndFieldEvent {
    field: '$.reply.end'
    value: boolean
  }

  export interface FrameReplyRetryAfterMsFieldEvent {
    field: '$.reply.retryAfterMs'
    value: number
  }

  export interface FramePatternsPatternsFieldEvent {
    field: '$.patterns.patterns[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface FramePatternsPushFieldEvent {
    field: '$.patterns.push'
    value: boolean
  }

  export function encode (obj: Partial<Frame>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Frame.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Frame>): Frame {
    return decodeMessage(buf, Frame.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Frame>): Generator<FrameHelloVersionFieldEvent | FrameHelloRootFieldEvent | FrameHelloCountFieldEvent | FrameRequestDescendFieldEvent | FrameRequestProbesPrefixFieldEvent | FrameRequestProbesEntriesFieldEvent | FrameRequestPullPrefixesFieldEvent | FrameRequestDoneFieldEvent | FrameReplyInSyncFieldEvent | FrameReplyParentsFieldEvent | FrameReplyChildHashesFieldEvent | FrameReplyChildCountsFieldEvent | FrameReplyNeedFieldEvent | FrameReplyBusyFieldEvent | FrameReplyEndFieldEvent | FrameReplyRetryAfterMsFieldEvent | FramePatternsPatternsFieldEvent | FramePatternsPushFieldEvent> {
    return streamMessage(buf, Frame.codec(), opts)
  }
}
