import { connect as connectTcp, type Socket } from 'node:net'
import { generate, parser, type Packet } from 'mqtt-packet'
import { mqttString, remainingLength } from '../helpers/mqtt-clients'

/** What a raw HTTP exchange produced: the status (0 when the server closed without answering) and the body. */
export interface RawHttpResponse {
  status: number
  headers: string
  body: string
}

/** Sends `request` verbatim on a fresh TCP connection and reads until the server closes (deadline `timeoutMs`). */
export function rawHttp(port: number, request: Buffer | string, timeoutMs = 5000): Promise<RawHttpResponse> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no answer within ${timeoutMs} ms`))
    }, timeoutMs)
    socket.on('data', (d: Buffer) => chunks.push(d))
    socket.on('error', () => undefined)
    socket.on('close', () => {
      clearTimeout(timer)
      const text = Buffer.concat(chunks).toString('latin1')
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text)
      const split = text.indexOf('\r\n\r\n')
      resolve({ status: match === null ? 0 : Number(match[1]), headers: split < 0 ? text : text.slice(0, split), body: split < 0 ? '' : text.slice(split + 4) })
    })
    socket.write(request)
  })
}

/** The `code` of a problem+json body (also when chunked), or undefined. */
export function problemCode(body: string): string | undefined {
  return /"code":"([a-z_]+)"/.exec(body)?.[1]
}

/** What a raw MQTT conversation produced: the packets the broker sent and whether it closed the connection. */
export interface MqttExchange {
  packets: Packet[]
  closed: boolean
}

/**
 * A raw MQTT connection: write bytes, collect decoded packets, notice the close.
 * `until` resolves when a packet matches or the connection closes, or after `timeoutMs`.
 */
export class RawMqtt {
  readonly packets: Packet[] = []
  closed = false
  private readonly socket: Socket
  private readonly waiters = new Set<() => void>()

  constructor(port: number) {
    this.socket = connectTcp(port, '127.0.0.1')
    const read = parser({ protocolVersion: 4 })
    read.on('packet', (p: Packet) => {
      this.packets.push(p)
      this.wake()
    })
    read.on('error', () => undefined)
    this.socket.on('data', (d: Buffer) => read.parse(d))
    this.socket.on('error', () => undefined)
    this.socket.on('close', () => {
      this.closed = true
      this.wake()
    })
  }

  static async connected(port: number, password: string, clientId: string): Promise<RawMqtt> {
    const raw = new RawMqtt(port)
    raw.send(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 30, username: 'u', password: Buffer.from(password) }))
    const connack = await raw.until((p) => p.cmd === 'connack')
    if (connack?.cmd !== 'connack' || connack.returnCode !== 0) throw new Error(`login refused: ${JSON.stringify(connack)}`)
    return raw
  }

  send(bytes: Buffer | string): void {
    if (!this.socket.destroyed) this.socket.write(bytes)
  }

  /** Half-closes our side (as a client that gives up mid-packet would). */
  end(): void {
    this.socket.end()
  }

  async until(match: (p: Packet) => boolean, timeoutMs = 3000): Promise<Packet | undefined> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.packets.find(match)
      if (found !== undefined || this.closed || Date.now() >= deadline) return found
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now())
        this.waiters.add(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  /** Resolves true once the broker closes the connection, false after `timeoutMs`. */
  async closedWithin(timeoutMs = 3000): Promise<boolean> {
    await this.until(() => false, timeoutMs)
    return this.closed
  }

  destroy(): void {
    this.socket.destroy()
  }

  private wake(): void {
    for (const w of [...this.waiters]) w()
    this.waiters.clear()
  }
}

export { mqttString, remainingLength }

export function packet(firstByte: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([firstByte]), remainingLength(body.length), body])
}

/** A QoS 1 PUBLISH built by hand, so topics MQTT.js would refuse to send can be sent. */
export function rawPublish(topic: string | Buffer, payload: Buffer | string, messageId = 1): Buffer {
  const id = Buffer.alloc(2)
  id.writeUInt16BE(messageId)
  return packet(0x32, Buffer.concat([mqttString(topic), id, Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8')]))
}

/** A CONNECT built by hand with a given protocol name, level and flags. */
export function rawConnect(options: { protocol?: string, level?: number, flags?: number, clientId?: string | Buffer, username?: string, password?: string }): Buffer {
  const flags = options.flags ?? ((options.username !== undefined ? 0x80 : 0) | (options.password !== undefined ? 0x40 : 0) | 0x02)
  const parts = [mqttString(options.protocol ?? 'MQTT'), Buffer.from([options.level ?? 4, flags, 0, 30]), mqttString(options.clientId ?? 'raw')]
  if (options.username !== undefined) parts.push(mqttString(options.username))
  if (options.password !== undefined) parts.push(mqttString(options.password))
  return packet(0x10, Buffer.concat(parts))
}
