import { once } from 'node:events'
import { connect as connectTcp, type Socket } from 'node:net'
import type { Client } from 'aedes'
import { generate, parser, type Packet } from 'mqtt-packet'
import { MalformedLengthError, PacketTooLargeError } from '../../../broker/limits/packet-size'
import { packet, rawConnect, rawPublish, remainingLength } from '../../security/hostile-helpers'
import { eventually, startBrokerNode, uniqueId, type BrokerNode } from './helpers'

const LIMIT = 4096
/** Announced by the oversized packets and frames: far beyond the limit. */
const ANNOUNCED = 64 * 1024 * 1024
/** Body bytes the client tries to send after an oversized header: what the broker would hold if it buffered them. */
const STREAMED = 48 * 1024 * 1024
/** How far the process' Buffer memory may rise while that is sent: a fraction of STREAMED. */
const MEMORY_SLACK = 12 * 1024 * 1024

/** A masked client-to-server WebSocket frame header [RFC 6455 5.2] with an all-zero masking key, so the payload goes as is. */
function wsHeader(length: number, opcode = 0x2): Buffer {
  const first = 0x80 | opcode
  if (length < 126) return Buffer.from([first, 0x80 | length, 0, 0, 0, 0])
  if (length < 65536) return Buffer.from([first, 0x80 | 126, length >> 8, length & 0xff, 0, 0, 0, 0])
  const header = Buffer.alloc(14)
  header[0] = first
  header[1] = 0x80 | 127
  header.writeBigUInt64BE(BigInt(length), 2)
  return header
}

/**
 * A raw MQTT connection over TCP or over WebSocket at /mqtt (handshake and framing done
 * by hand, so frames of any announced length can be sent): decodes what the broker
 * sends and notices the close. `send` sends MQTT bytes (one WebSocket message each),
 * `sendRaw` puts bytes on the socket as they are.
 */
class RawLink {
  readonly packets: Packet[] = []
  closed = false
  /** The WebSocket close code the broker sent, if any. */
  closeCode?: number
  private readonly read = parser({ protocolVersion: 4 })
  private pending = Buffer.alloc(0)
  private upgraded = false

  private constructor(readonly socket: Socket, readonly transport: 'tcp' | 'ws') {
    socket.setNoDelay(true)
    this.read.on('packet', (p: Packet) => this.packets.push(p))
    this.read.on('error', () => undefined)
    socket.on('error', () => undefined)
    socket.on('close', () => { this.closed = true })
    socket.on('data', (d: Buffer) => this.receive(d))
  }

  static async open(node: BrokerNode, transport: 'tcp' | 'ws'): Promise<RawLink> {
    const url = new URL(transport === 'tcp' ? node.mqttUrl : node.wsUrl)
    const link = new RawLink(connectTcp(Number(url.port), url.hostname), transport)
    await once(link.socket, 'connect')
    if (transport === 'ws') {
      link.socket.write([
        'GET /mqtt HTTP/1.1', `Host: ${url.host}`, 'Upgrade: websocket', 'Connection: Upgrade',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Protocol: mqtt', '', ''
      ].join('\r\n'))
      await eventually(() => link.upgraded || link.closed)
      if (!link.upgraded) throw new Error('WebSocket upgrade refused')
    }
    return link
  }

  static async loggedIn(node: BrokerNode, transport: 'tcp' | 'ws', key: string): Promise<RawLink> {
    const link = await RawLink.open(node, transport)
    link.send(rawConnect({ clientId: uniqueId('size-'), username: 'u', password: key }))
    const connack = await link.until((p) => p.cmd === 'connack')
    if (connack?.cmd !== 'connack' || connack.returnCode !== 0) throw new Error(`login refused: ${JSON.stringify(connack)}`)
    return link
  }

  send(mqtt: Buffer): void {
    this.sendRaw(this.transport === 'ws' ? Buffer.concat([wsHeader(mqtt.length), mqtt]) : mqtt)
  }

  sendRaw(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes)
  }

  /**
   * Sends `total` bytes in pieces of `piece` bytes (each piece its own WebSocket message
   * when `framed`), waiting for the socket to drain, until done or the broker closes the
   * connection. Returns how much was written and the peak of the process' Buffer memory.
   */
  async pump(total: number, piece: number, framed = false): Promise<{ written: number, peakArrayBuffers: number }> {
    const body = Buffer.alloc(piece)
    const chunk = framed ? Buffer.concat([wsHeader(piece), body]) : body
    const gone = new Promise<void>((resolve) => {
      if (this.closed || this.closeCode !== undefined) resolve()
      this.socket.once('close', () => resolve())
      this.socket.once('end', () => resolve())
    })
    let written = 0
    let peakArrayBuffers = process.memoryUsage().arrayBuffers
    while (written < total && !this.closed && this.closeCode === undefined && !this.socket.destroyed) {
      const flowing = this.socket.write(chunk)
      written += piece
      peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers)
      // a write into a connection the broker reset fails with ECONNRESET: that is the close
      if (!flowing) await Promise.race([once(this.socket, 'drain').catch(() => undefined), gone])
    }
    return { written, peakArrayBuffers }
  }

  async until(match: (p: Packet) => boolean, timeoutMs = 5000): Promise<Packet | undefined> {
    await eventually(() => this.packets.some(match) || this.closed, timeoutMs).catch(() => undefined)
    return this.packets.find(match)
  }

  async closedWithin(timeoutMs = 10_000): Promise<boolean> {
    await eventually(() => this.closed, timeoutMs).catch(() => undefined)
    return this.closed
  }

  destroy(): void {
    this.socket.destroy()
  }

  private receive(data: Buffer): void {
    if (this.transport === 'tcp') {
      this.read.parse(data)
      return
    }
    this.pending = Buffer.concat([this.pending, data])
    if (!this.upgraded) {
      const end = this.pending.indexOf('\r\n\r\n')
      if (end < 0) return
      if (!this.pending.subarray(0, end).toString('latin1').startsWith('HTTP/1.1 101')) {
        this.socket.destroy()
        return
      }
      this.upgraded = true
      this.pending = this.pending.subarray(end + 4)
    }
    // server frames are unmasked [RFC 6455 5.1]
    for (;;) {
      if (this.pending.length < 2) return
      const opcode = this.pending[0] & 0x0f
      let length = this.pending[1] & 0x7f
      let offset = 2
      if (length === 126) {
        if (this.pending.length < 4) return
        length = this.pending.readUInt16BE(2)
        offset = 4
      } else if (length === 127) {
        if (this.pending.length < 10) return
        length = Number(this.pending.readBigUInt64BE(2))
        offset = 10
      }
      if (this.pending.length < offset + length) return
      const payload = this.pending.subarray(offset, offset + length)
      this.pending = this.pending.subarray(offset + length)
      if (opcode === 0x8) {
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005
        // a client that receives a close frame stops sending and ends its side
        this.socket.end()
      } else {
        this.read.parse(payload)
      }
    }
  }
}

/** A QoS 1 PUBLISH (message id 7) whose remaining length is exactly `length`. */
function publishOfLength(length: number): Buffer {
  const topic = 'strategy/size/BTC'
  const built = rawPublish(topic, Buffer.alloc(length - 4 - topic.length, 0x61), 7)
  expect(built.length).toBe(1 + remainingLength(length).length + length)
  return built
}

describe('mqtt packet size', () => {
  let node: BrokerNode
  let key: string
  const errors: Array<{ event: string, err: Error }> = []
  const links: RawLink[] = []

  beforeAll(async () => {
    node = await startBrokerNode({ MQTT_MAX_PACKET_BYTES: String(LIMIT) })
    key = (await node.user('size', 'publisher')).key
    node.broker.aedes.on('clientError', (_client: Client, err: Error) => { errors.push({ event: 'clientError', err }) })
    node.broker.aedes.on('connectionError', (_client: Client, err: Error) => { errors.push({ event: 'connectionError', err }) })
  })
  afterEach(() => {
    for (const link of links.splice(0)) link.destroy()
    errors.length = 0
  })
  afterAll(() => node.shutdown())

  const login = async (transport: 'tcp' | 'ws'): Promise<RawLink> => {
    const link = await RawLink.loggedIn(node, transport, key)
    links.push(link)
    return link
  }

  describe.each(['tcp', 'ws'] as const)('over %s', (transport) => {
    test('a PUBLISH exactly at MQTT_MAX_PACKET_BYTES is read whole, and the packet after it too', async () => {
      const link = await login(transport)
      link.send(Buffer.concat([publishOfLength(LIMIT), generate({ cmd: 'pingreq' })]))
      expect((await link.until((p) => p.cmd === 'puback' && p.messageId === 7))?.cmd).toBe('puback')
      expect((await link.until((p) => p.cmd === 'pingresp'))?.cmd).toBe('pingresp')
      expect(link.closed).toBe(false)
    })

    test('a PUBLISH one byte over MQTT_MAX_PACKET_BYTES closes the connection with a PacketTooLargeError', async () => {
      const link = await login(transport)
      link.send(publishOfLength(LIMIT + 1))
      expect(await link.closedWithin()).toBe(true)
      expect(link.packets.some((p) => p.cmd === 'puback')).toBe(false)
      const reported = await eventually(() => errors.find((e) => e.err instanceof PacketTooLargeError))
      expect(reported.err.message).toBe(`publish packet of ${LIMIT + 1} bytes exceeds MQTT_MAX_PACKET_BYTES (${LIMIT})`)
    })

    test('a PUBLISH at the limit sent in 64-byte pieces passes, and an oversized header sent byte by byte after it closes the connection', async () => {
      const link = await login(transport)
      const stream = Buffer.concat([publishOfLength(LIMIT), generate({ cmd: 'pingreq' })])
      for (let at = 0; at < stream.length; at += 64) {
        link.send(stream.subarray(at, at + 64))
        await new Promise((resolve) => setImmediate(resolve))
      }
      expect((await link.until((p) => p.cmd === 'pingresp'))?.cmd).toBe('pingresp')
      expect(link.packets.some((p) => p.cmd === 'puback' && p.messageId === 7)).toBe(true)

      for (const byte of [0x30, ...remainingLength(LIMIT + 1)]) {
        link.send(Buffer.from([byte]))
        await new Promise((resolve) => setImmediate(resolve))
      }
      expect(await link.closedWithin()).toBe(true)
      await eventually(() => errors.find((e) => e.err instanceof PacketTooLargeError))
    })

    test('a remaining length of five bytes closes the connection', async () => {
      const link = await login(transport)
      link.send(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]))
      expect(await link.closedWithin()).toBe(true)
      // mqtt-packet refuses it as well, in the same turn: either refusal may be the one reported
      await eventually(() => errors.find((e) => e.err instanceof MalformedLengthError || /variable byte integer/.test(e.err.message)))
    })

    test('a PUBLISH announcing 64 MiB is refused at its header: the connection closes and its body is never buffered', async () => {
      const link = await login(transport)
      link.send(Buffer.concat([Buffer.from([0x32]), remainingLength(ANNOUNCED)]))
      const before = process.memoryUsage().arrayBuffers
      // over ws, as messages each well within the WebSocket limit, so only the MQTT header can refuse them
      const { written, peakArrayBuffers } = await link.pump(STREAMED, 4000, transport === 'ws')
      expect(await link.closedWithin()).toBe(true)
      expect(written).toBeLessThan(STREAMED)
      expect(peakArrayBuffers - before).toBeLessThan(MEMORY_SLACK)
      await eventually(() => errors.find((e) => e.err instanceof PacketTooLargeError))
    })
  })

  test('over ws: a message announcing 64 MiB in its frame header is refused (1009) before its payload is buffered', async () => {
    const link = await login('ws')
    link.sendRaw(wsHeader(ANNOUNCED))
    const before = process.memoryUsage().arrayBuffers
    const { written, peakArrayBuffers } = await link.pump(STREAMED, 64 * 1024)
    expect(await link.closedWithin()).toBe(true)
    expect(link.closeCode).toBe(1009)
    expect(written).toBeLessThan(STREAMED)
    expect(peakArrayBuffers - before).toBeLessThan(MEMORY_SLACK)
    await eventually(() => errors.find((e) => /max payload size exceeded/i.test(e.err.message)))
  })

  test('over ws: a message of MQTT_MAX_PACKET_BYTES + 5 bytes passes, one byte more is refused (1009)', async () => {
    const link = await login('ws')
    const largest = Buffer.concat([publishOfLength(LIMIT), generate({ cmd: 'pingreq' })])
    expect(largest.length).toBe(LIMIT + 5)
    link.send(largest)
    expect((await link.until((p) => p.cmd === 'pingresp'))?.cmd).toBe('pingresp')
    expect(link.packets.some((p) => p.cmd === 'puback' && p.messageId === 7)).toBe(true)

    link.send(Buffer.concat([largest, generate({ cmd: 'pingreq' }).subarray(0, 1)]))
    expect(await link.closedWithin()).toBe(true)
    expect(link.closeCode).toBe(1009)
  })

  test('before CONNECT: a packet announcing 64 MiB closes the connection at its header', async () => {
    const link = await RawLink.open(node, 'tcp')
    links.push(link)
    link.sendRaw(Buffer.concat([Buffer.from([0x10]), remainingLength(ANNOUNCED)]))
    const before = process.memoryUsage().arrayBuffers
    const { written, peakArrayBuffers } = await link.pump(STREAMED, 64 * 1024)
    expect(await link.closedWithin()).toBe(true)
    expect(written).toBeLessThan(STREAMED)
    expect(peakArrayBuffers - before).toBeLessThan(MEMORY_SLACK)
    await eventually(() => errors.find((e) => e.event === 'connectionError' && e.err instanceof PacketTooLargeError))
  })

  test('afterwards the broker still serves a login', async () => {
    const link = await login('tcp')
    link.send(packet(0xc0, Buffer.alloc(0)))
    expect((await link.until((p) => p.cmd === 'pingresp'))?.cmd).toBe('pingresp')
  })
})
