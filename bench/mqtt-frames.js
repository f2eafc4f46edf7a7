'use strict'
/**
 * MQTT 3.1.1 framing for the load generators: splits a TCP byte stream into packets and
 * writes the few packets the generators send often (PUBLISH, PUBACK) straight into
 * buffers. A general parser (mqtt-packet) builds an object, a buffer list and an event
 * per packet; at 100k deliveries/s that costs the load process as much CPU as the broker
 * spends, and the measurement becomes one of the generator.
 */
const { Buffer } = require('node:buffer')

const PUBLISH = 3
const PUBACK = 4

/**
 * Cuts a stream into whole packets. `push(chunk)` calls `onPacket(type, flags, body)`
 * for every packet completed by `chunk`; `body` is a view into the stream (copy it to
 * keep it past the call). A packet cut across chunks is kept until its last byte comes.
 */
class FrameReader {
  /** @param {(type: number, flags: number, body: Buffer) => void} onPacket */
  constructor(onPacket) {
    this.onPacket = onPacket
    /** @type {Buffer | null} */
    this.rest = null
  }

  /** @param {Buffer} chunk */
  push(chunk) {
    let buf = chunk
    if (this.rest !== null) {
      buf = Buffer.concat([this.rest, chunk])
      this.rest = null
    }
    let at = 0
    while (at < buf.length) {
      const header = readHeader(buf, at)
      if (header === null || header.end + header.length > buf.length) break
      const first = buf[at]
      this.onPacket(first >> 4, first & 0x0f, buf.subarray(header.end, header.end + header.length))
      at = header.end + header.length
    }
    if (at < buf.length) this.rest = Buffer.from(buf.subarray(at))
  }
}

/**
 * Reads the fixed header at `at`: the remaining length and where the body starts, or
 * null if the header itself is not complete yet.
 * @throws on a remaining length longer than MQTT's four bytes
 */
function readHeader(buf, at) {
  let length = 0
  let multiplier = 1
  for (let i = at + 1; i < buf.length; i++) {
    const byte = buf[i]
    length += (byte & 0x7f) * multiplier
    if ((byte & 0x80) === 0) return { length, end: i + 1 }
    multiplier *= 128
    if (i - at >= 4) throw new Error('malformed MQTT remaining length')
  }
  return null
}

/**
 * The parts of a PUBLISH the generators read: QoS, the retain flag, message id (0 at
 * QoS 0) and payload (a view into `body`). The topic is skipped: every generator
 * subscribes to one.
 */
function readPublish(flags, body) {
  const qos = (flags >> 1) & 3
  const retain = (flags & 1) === 1
  let at = 2 + body.readUInt16BE(0)
  let messageId = 0
  if (qos > 0) {
    messageId = body.readUInt16BE(at)
    at += 2
  }
  return { qos, retain, messageId, payload: body.subarray(at) }
}

/** Encodes an MQTT remaining length (1–4 bytes) into `buf` at `at`; returns the next offset. */
function writeLength(buf, at, length) {
  let rest = length
  do {
    let byte = rest % 128
    rest = Math.floor(rest / 128)
    if (rest > 0) byte |= 0x80
    buf[at++] = byte
  } while (rest > 0)
  return at
}

function lengthBytes(length) {
  return length < 128 ? 1 : length < 16_384 ? 2 : length < 2_097_152 ? 3 : 4
}

/**
 * Writes PUBLISH packets for one topic and one payload template into a caller's buffer:
 * the header is worked out once, and each packet is the header, the message id and a
 * copy of the template, which the caller then stamps (sequence number, send time).
 */
class PublishWriter {
  /** @param {string} topic @param {Buffer} template @param {0 | 1} qos */
  constructor(topic, template, qos) {
    const topicBytes = Buffer.from(topic, 'utf8')
    const remaining = 2 + topicBytes.length + (qos > 0 ? 2 : 0) + template.length
    const header = Buffer.alloc(1 + lengthBytes(remaining) + 2 + topicBytes.length)
    header[0] = (PUBLISH << 4) | (qos << 1)
    let at = writeLength(header, 1, remaining)
    at = header.writeUInt16BE(topicBytes.length, at)
    topicBytes.copy(header, at)
    this.header = header
    this.template = template
    this.qos = qos
    /** bytes of one packet */
    this.size = header.length + (qos > 0 ? 2 : 0) + template.length
  }

  /** Writes one packet at `at` in `buf` and returns the payload's offset (for the caller to stamp). */
  write(buf, at, messageId) {
    this.header.copy(buf, at)
    let p = at + this.header.length
    if (this.qos > 0) p = buf.writeUInt16BE(messageId, p)
    this.template.copy(buf, p)
    return p
  }
}

/** PUBACKs for `ids`, back to back in one buffer. */
function pubacks(ids) {
  const buf = Buffer.allocUnsafe(4 * ids.length)
  for (let i = 0; i < ids.length; i++) {
    buf[4 * i] = PUBACK << 4
    buf[4 * i + 1] = 2
    buf.writeUInt16BE(ids[i], 4 * i + 2)
  }
  return buf
}

module.exports = { FrameReader, PublishWriter, readPublish, pubacks, writeLength, PUBLISH, PUBACK }
