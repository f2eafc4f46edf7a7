import { generate } from 'mqtt-packet'
import { MalformedLengthError, PacketLengthCounter, PacketTooLargeError } from '../../../../broker/limits/packet-size'
import { packet, remainingLength } from '../../../security/hostile-helpers'

const LIMIT = 300

/** A QoS 0 PUBLISH whose remaining length is exactly `length` (topic "t"). */
function publishOfLength(length: number): Buffer {
  return packet(0x30, Buffer.concat([Buffer.from([0, 1, 0x74]), Buffer.alloc(length - 3, 0x61)]))
}

/** Feeds `stream` in chunks cut at `cuts` (offsets); returns the refusal and the offset of the chunk it came in. */
function countInChunks(counter: PacketLengthCounter, stream: Buffer, cuts: number[]): { refusal?: Error, at?: number } {
  const bounds = [0, ...cuts.filter((c) => c > 0 && c < stream.length).sort((a, b) => a - b), stream.length]
  for (let i = 0; i + 1 < bounds.length; i++) {
    const refusal = counter.count(stream.subarray(bounds[i], bounds[i + 1]))
    if (refusal !== undefined) return { refusal, at: bounds[i] }
  }
  return {}
}

/** A deterministic pseudo-random sequence (mulberry32), so a failing split can be replayed. */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('PacketLengthCounter', () => {
  test('count, packets of every header size up to the limit in one chunk, refuses none', () => {
    const counter = new PacketLengthCounter(20_000)
    const stream = Buffer.concat([
      Buffer.from([0xc0, 0x00]),
      publishOfLength(3), publishOfLength(127), publishOfLength(128), publishOfLength(16_383), publishOfLength(16_384), publishOfLength(20_000),
      Buffer.from([0xe0, 0x00])
    ])
    expect(counter.count(stream)).toBeUndefined()
  })

  test('count, a packet exactly at the limit then one byte over it, refuses the second with its type and length', () => {
    const counter = new PacketLengthCounter(LIMIT)
    expect(counter.count(publishOfLength(LIMIT))).toBeUndefined()
    const refusal = counter.count(Buffer.concat([Buffer.from([0x82]), remainingLength(LIMIT + 1)]))
    expect(refusal).toBeInstanceOf(PacketTooLargeError)
    expect(refusal).toMatchObject({ cmd: 'subscribe', length: LIMIT + 1, limit: LIMIT })
    expect(refusal?.message).toBe(`subscribe packet of ${LIMIT + 1} bytes exceeds MQTT_MAX_PACKET_BYTES (${LIMIT})`)
  })

  test('count, a header announcing the largest remaining length, refuses it before any body byte', () => {
    const counter = new PacketLengthCounter(LIMIT)
    expect(counter.count(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]))).toMatchObject({ cmd: 'publish', length: 268_435_455 })
  })

  test('count, a fourth remaining-length byte with its continuation bit set, refuses it as malformed', () => {
    const counter = new PacketLengthCounter(LIMIT)
    const refusal = counter.count(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f]))
    expect(refusal).toBeInstanceOf(MalformedLengthError)
    expect(refusal?.message).toBe('connect packet with a remaining length longer than 4 bytes')
  })

  test('count, a malformed length split one byte per chunk, refuses it at its fourth length byte', () => {
    const stream = Buffer.from([0x00, 0x80, 0x80, 0x80, 0x80, 0x01])
    const result = countInChunks(new PacketLengthCounter(LIMIT), stream, [1, 2, 3, 4, 5])
    expect(result.refusal).toBeInstanceOf(MalformedLengthError)
    expect(result.at).toBe(4)
  })

  test('count, a zero-padded length (0x80 0x00) is within the limit and the next header is read where it starts', () => {
    const counter = new PacketLengthCounter(LIMIT)
    expect(counter.count(Buffer.from([0xc0, 0x80, 0x00, 0xc0, 0x00]))).toBeUndefined()
    expect(counter.count(Buffer.concat([Buffer.from([0x30]), remainingLength(LIMIT + 1)]))).toBeInstanceOf(PacketTooLargeError)
  })

  test('count, valid packets and then an oversized one cut at random points, refuses exactly the oversized one every time', () => {
    const next = random(7)
    const valid = Buffer.concat([
      generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'c', keepalive: 30 }),
      publishOfLength(LIMIT),
      generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/b', qos: 1 }] }),
      publishOfLength(200),
      generate({ cmd: 'pingreq' }),
      publishOfLength(129)
    ])
    const oversized = Buffer.concat([Buffer.from([0x32]), remainingLength(LIMIT + 1), Buffer.alloc(LIMIT + 1)])
    const stream = Buffer.concat([valid, oversized])
    for (let round = 0; round < 300; round++) {
      const cuts = Array.from({ length: 1 + Math.floor(next() * 40) }, () => Math.floor(next() * stream.length))
      const result = countInChunks(new PacketLengthCounter(LIMIT), stream, cuts)
      expect(result.refusal).toBeInstanceOf(PacketTooLargeError)
      // the chunk holding the last byte of the oversized packet's length is the one refused
      const lastHeaderByte = valid.length + 2
      const chunkStart = Math.max(0, ...cuts.filter((c) => c <= lastHeaderByte && c < stream.length))
      expect(result.at).toBe(chunkStart)
    }
  })

  test('count, a packet at the limit fed one byte at a time, passes, and so does the next', () => {
    const counter = new PacketLengthCounter(LIMIT)
    const stream = Buffer.concat([publishOfLength(LIMIT), Buffer.from([0xc0, 0x00]), publishOfLength(LIMIT)])
    for (const byte of stream) expect(counter.count(Buffer.from([byte]))).toBeUndefined()
    expect(counter.count(Buffer.from([0x30, 0xad, 0x02]))).toBeInstanceOf(PacketTooLargeError)
  })
})
