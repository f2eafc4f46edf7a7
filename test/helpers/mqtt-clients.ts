import { connect as connectTcp } from 'node:net'
import { parser, type Packet } from 'mqtt-packet'
import mqtt, { type IClientOptions, type MqttClient, type IPublishPacket } from 'mqtt'
import { uniqueId } from './fixtures'

/**
 * MQTT.js clients for tests, and what they receive. Client ids are unique unless a test
 * names one: Aedes closes a client when another node (in any process on the same Redis)
 * announces a connection with the same id.
 */

/** MQTT.js clients opened by a test, all ended in afterEach. */
export class TestClients {
  private readonly open = new Set<MqttClient>()

  /**
   * Connects (MQTT 3.1.1, username "test" and a unique client id unless given, no automatic reconnect);
   * rejects with the CONNACK error (its `code` is the return code).
   */
  connect(url: string, options: IClientOptions = {}): Promise<MqttClient> {
    const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, username: 'test', clientId: uniqueId('test-'), ...options })
    this.open.add(client)
    return new Promise((resolve, reject) => {
      client.once('connect', () => resolve(client))
      client.once('error', reject)
      // MQTT.js closes the socket just before it emits a refused CONNACK's error
      client.once('close', () => setImmediate(() => reject(new Error('closed before CONNACK'))))
    })
  }

  /** The CONNACK return code of a refused CONNECT (fails the test if it was accepted). */
  async refusal(url: string, options: IClientOptions = {}): Promise<number> {
    try {
      await this.connect(url, options)
    } catch (err) {
      return (err as { code?: number }).code ?? -1
    }
    throw new Error('CONNECT was accepted')
  }

  async endAll(): Promise<void> {
    await Promise.all([...this.open].map((c) => new Promise<void>((resolve) => c.end(true, {}, () => resolve()))))
    this.open.clear()
  }
}

/** SUBACK return codes, one per filter (128 = refused). */
export function subscribe(client: MqttClient, filters: string[], qos: 0 | 1 = 1): Promise<number[]> {
  return new Promise((resolve, reject) => {
    client.subscribe(filters, { qos }, (err, _granted, packet) => {
      const codes = (packet as { granted?: number[] } | undefined)?.granted
      if (codes !== undefined) resolve(codes)
      else reject(err ?? new Error('no SUBACK'))
    })
  })
}

export function publish(client: MqttClient, topic: string, payload: unknown, options: { qos?: 0 | 1 | 2, retain?: boolean } = {}): Promise<void> {
  const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload)
  return new Promise((resolve, reject) => {
    client.publish(topic, body, { qos: options.qos ?? 1, retain: options.retain ?? false }, (err) => err ? reject(err) : resolve())
  })
}

export interface Received {
  topic: string
  payload: Buffer
  packet: IPublishPacket
  json<T = Record<string, unknown>>(): T
}

/** Collects the messages a client receives, so tests can await the next one matching a topic. */
export class Inbox {
  readonly messages: Received[] = []
  private waiters: Array<{ match: (m: Received) => boolean, resolve: (m: Received) => void }> = []

  constructor(client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const message: Received = { topic, payload, packet, json: <T>() => JSON.parse(payload.toString('utf8')) as T }
      this.messages.push(message)
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(message)) return true
        w.resolve(message)
        return false
      })
    })
  }

  /** The first message (already received or yet to come) on `topic`; rejects after `timeoutMs`. */
  next(topic: string, timeoutMs = 5000): Promise<Received> {
    const match = (m: Received): boolean => m.topic === topic
    const seen = this.messages.find(match)
    if (seen !== undefined) {
      this.messages.splice(this.messages.indexOf(seen), 1)
      return Promise.resolve(seen)
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done)
        reject(new Error(`no message on ${topic} within ${timeoutMs} ms`))
      }, timeoutMs)
      const done = (m: Received): void => {
        clearTimeout(timer)
        this.messages.splice(this.messages.indexOf(m), 1)
        resolve(m)
      }
      this.waiters.push({ match, resolve: done })
    })
  }

  /** Messages received on `topic` and not yet taken by `next`. */
  count(topic: string): number {
    return this.messages.filter((m) => m.topic === topic).length
  }
}

/** Resolves when the client's connection closes. */
export function closed(client: MqttClient): Promise<void> {
  if (!client.connected) return Promise.resolve()
  return new Promise((resolve) => client.once('close', () => resolve()))
}

export function signalBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'buy', execute_date: '2026-11-21T09:30:00+08:00', description: 'test', ...overrides }
}

/** A length-prefixed MQTT string or binary field. */
export function mqttString(value: string | Buffer): Buffer {
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8')
  const length = Buffer.alloc(2)
  length.writeUInt16BE(bytes.length)
  return Buffer.concat([length, bytes])
}

/** An MQTT variable-length "remaining length" [MQTT-2.2.3]. */
export function remainingLength(n: number): Buffer {
  const out: number[] = []
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    out.push(byte)
  } while (n > 0)
  return Buffer.from(out)
}

/**
 * Sends one MQTT 3.1.1 CONNECT built by hand (MQTT.js and mqtt-packet both refuse to
 * build one with an empty client id and clean session 0) and resolves with the
 * CONNACK return code.
 */
export function rawConnectReturnCode(url: string, connect: { clientId: string, clean: boolean, username: string, password: string }): Promise<number> {
  const { hostname, port } = new URL(url)
  const flags = 0x80 | 0x40 | (connect.clean ? 0x02 : 0)
  const body = Buffer.concat([
    mqttString('MQTT'), Buffer.from([4, flags, 0, 30]),
    mqttString(connect.clientId), mqttString(connect.username), mqttString(connect.password)
  ])
  return new Promise((resolve, reject) => {
    const socket = connectTcp(Number(port), hostname)
    const read = parser()
    read.on('packet', (packet: Packet) => {
      socket.destroy()
      if (packet.cmd === 'connack') resolve(packet.returnCode ?? -1)
      else reject(new Error(`unexpected ${packet.cmd}`))
    })
    socket.on('data', (data) => read.parse(data))
    socket.on('error', reject)
    socket.on('close', () => reject(new Error('closed without CONNACK')))
    socket.write(Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]))
  })
}
