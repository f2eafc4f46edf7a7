import type { Duplex } from 'node:stream'

/** MQTT 3.1.1 control packet types by the high nibble of the first byte [MQTT-2.2.1]. */
const PACKET_TYPES = [
  'reserved', 'connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp',
  'subscribe', 'suback', 'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect', 'reserved'
]

/** The remaining length takes at most four bytes [MQTT-2.2.3]. */
const MAX_LENGTH_BYTES = 4

/** The largest fixed header: the type byte and four bytes of remaining length. */
export const MAX_FIXED_HEADER_BYTES = 1 + MAX_LENGTH_BYTES

export class PacketTooLargeError extends Error {
  constructor(readonly cmd: string, readonly length: number, readonly limit: number) {
    super(`${cmd} packet of ${length} bytes exceeds MQTT_MAX_PACKET_BYTES (${limit})`)
    this.name = 'PacketTooLargeError'
  }
}

export class MalformedLengthError extends Error {
  constructor(readonly cmd: string) {
    super(`${cmd} packet with a remaining length longer than ${MAX_LENGTH_BYTES} bytes`)
    this.name = 'MalformedLengthError'
  }
}

const TYPE = 0
const LENGTH = 1

/**
 * Follows the packet boundaries of one MQTT byte stream: reads each fixed header (the
 * type byte and the 1–4 byte remaining length) and steps over the body without
 * reading or copying it. Refuses a packet whose remaining length exceeds `maxBytes`,
 * and a remaining length that does not end within four bytes.
 */
export class PacketLengthCounter {
  private phase = TYPE
  private type = 0
  private length = 0
  private multiplier = 1
  private lengthBytes = 0
  /** Body bytes of the current packet not seen yet. */
  private remaining = 0

  constructor(private readonly maxBytes: number) {}

  /** Counts the next chunk of the stream; returns the refusal of the first packet that breaks a rule. */
  count(chunk: Uint8Array): PacketTooLargeError | MalformedLengthError | undefined {
    const end = chunk.length
    let i = 0
    while (i < end) {
      if (this.remaining > 0) {
        const step = Math.min(this.remaining, end - i)
        this.remaining -= step
        i += step
        continue
      }
      const byte = chunk[i++]
      if (this.phase === TYPE) {
        this.type = byte >> 4
        this.length = 0
        this.multiplier = 1
        this.lengthBytes = 0
        this.phase = LENGTH
        continue
      }
      this.length += (byte & 0x7f) * this.multiplier
      this.multiplier *= 0x80
      this.lengthBytes++
      if ((byte & 0x80) !== 0) {
        if (this.lengthBytes === MAX_LENGTH_BYTES) return new MalformedLengthError(PACKET_TYPES[this.type])
        continue
      }
      if (this.length > this.maxBytes) return new PacketTooLargeError(PACKET_TYPES[this.type], this.length, this.maxBytes)
      this.remaining = this.length
      this.phase = TYPE
    }
    return undefined
  }
}

/**
 * Refuses any packet on `stream` whose remaining length exceeds `maxBytes` as soon as
 * its fixed header arrives, before its body is buffered, and any malformed remaining
 * length. Each chunk the broker reads from the stream is also emitted as 'data' (also
 * when the broker reads with 'readable' and `read()`), so it is counted here as the
 * same Buffer, unchanged, and nothing sits between the socket and the broker.
 * The stream is destroyed with the refusal, which the broker reports as a client or
 * connection error; MQTT 3.1.1 has no reason code for it.
 */
export function limitPacketSize(stream: Duplex, maxBytes: number): void {
  const counter = new PacketLengthCounter(maxBytes)
  const inspect = (chunk: Buffer): void => {
    const refusal = counter.count(chunk)
    if (refusal === undefined) return
    stream.off('data', inspect)
    stream.destroy(refusal)
  }
  stream.on('data', inspect)
}
