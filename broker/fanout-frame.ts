import { Buffer } from 'node:buffer'
import { randomBytes } from 'node:crypto'

/** A message as MQEmitter carries it: any fields, a `topic`, and usually a `payload`. */
export type FanoutMessage = Record<string, unknown> & { topic: string }

/** Bytes of the tag that names the node a frame comes from. */
export const ORIGIN_BYTES = 12

const PAYLOAD_BUFFER = 0
const PAYLOAD_STRING = 1
const PAYLOAD_NONE = 2
/** tag, payload kind (1 byte), header length (uint32 BE) */
const HEADER_AT = ORIGIN_BYTES + 5

/**
 * How one message travels between Signal Hub nodes through Redis:
 *
 *     origin tag (12 bytes) | payload kind (1) | header length (4, BE) | header | payload
 *
 * The header is the message without its payload, as JSON (Aedes' packets hold strings,
 * numbers and booleans besides the payload); the payload follows as raw bytes, so it is
 * neither copied into JSON nor parsed on the way in. The tag comes first so that a node
 * knows its own messages coming back from Redis by comparing 12 bytes, before decoding.
 */
export class FanoutFrames {
  readonly origin: Buffer

  constructor(origin: Buffer = randomBytes(ORIGIN_BYTES)) {
    if (origin.length !== ORIGIN_BYTES) throw new Error(`an origin tag has ${ORIGIN_BYTES} bytes`)
    this.origin = origin
  }

  encode(message: FanoutMessage): Buffer {
    const { payload, ...fields } = message
    const header = JSON.stringify(fields)
    const headerBytes = Buffer.byteLength(header)
    let kind = PAYLOAD_NONE
    let body: Buffer | undefined
    if (Buffer.isBuffer(payload)) {
      kind = PAYLOAD_BUFFER
      body = payload
    } else if (typeof payload === 'string') {
      kind = PAYLOAD_STRING
      body = Buffer.from(payload)
    } else if (payload !== undefined) {
      throw new TypeError('a fan-out payload is a Buffer or a string')
    }
    const frame = Buffer.allocUnsafe(HEADER_AT + headerBytes + (body?.length ?? 0))
    this.origin.copy(frame, 0)
    frame[ORIGIN_BYTES] = kind
    frame.writeUInt32BE(headerBytes, ORIGIN_BYTES + 1)
    frame.write(header, HEADER_AT, 'utf8')
    body?.copy(frame, HEADER_AT + headerBytes)
    return frame
  }

  /** Whether `frame` was encoded here (with this origin tag). */
  sentHere(frame: Buffer): boolean {
    return frame.length >= ORIGIN_BYTES && this.origin.compare(frame, 0, ORIGIN_BYTES) === 0
  }
}

/**
 * The message in `frame`, or undefined if it is not a well-formed frame (anyone who can
 * publish on the channel can send anything). A Buffer payload is a view of `frame`.
 */
export function decodeFrame(frame: Buffer): FanoutMessage | undefined {
  if (frame.length < HEADER_AT) return undefined
  const kind = frame[ORIGIN_BYTES]
  const headerBytes = frame.readUInt32BE(ORIGIN_BYTES + 1)
  const payloadAt = HEADER_AT + headerBytes
  if (payloadAt > frame.length || kind === undefined || kind > PAYLOAD_NONE) return undefined
  if (kind === PAYLOAD_NONE && payloadAt !== frame.length) return undefined
  let fields: unknown
  try {
    fields = JSON.parse(frame.toString('utf8', HEADER_AT, payloadAt))
  } catch {
    return undefined
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return undefined
  const message = fields as Record<string, unknown>
  if (typeof message.topic !== 'string' || message.topic === '' || 'payload' in message) return undefined
  if (kind === PAYLOAD_BUFFER) message.payload = frame.subarray(payloadAt)
  else if (kind === PAYLOAD_STRING) message.payload = frame.toString('utf8', payloadAt)
  return message as FanoutMessage
}
