import { generate, type Packet } from 'mqtt-packet'
import { startTestHub, type TestHub, type TestUser } from '../helpers/hub'
import { mqttString, packet, rawConnect, RawMqtt, rawPublish } from './hostile-helpers'

/**
 * Hostile input on the MQTT door, over a raw TCP socket so that nothing is cleaned up
 * by a client library first. Each case ends in a clear refusal — a CONNACK return
 * code, a SUBACK 0x80, a closed connection, or a PUBACK with a `publish_rejected`
 * notice — nothing is stored, and the broker keeps serving.
 */

let hub: TestHub
let publisher: TestUser
let subscriber: TestUser
let port: number
let seq = 0

type Outcome =
  | { kind: 'closed' }
  | { kind: 'rejected', code: string }
  | { kind: 'connack', returnCode: number }
  | { kind: 'suback', granted: number[] }

interface Case {
  name: string
  /** What the client does; `session` is a logged-in publisher (subscribed to its notices) unless `fresh`. */
  run: (conn: RawMqtt) => void
  /** A connection that has not sent CONNECT (for malformed CONNECTs and packets before CONNECT). */
  fresh?: boolean
  /** Log in as the subscriber instead of the publisher. */
  as?: 'subscriber'
  expect: Outcome
}

const SIGNAL = JSON.stringify({ type: 'buy', execute_date: '2026-01-01T09:30:00+08:00', description: 'x' })
const closed: Outcome = { kind: 'closed' }
const rejected = (code: string): Outcome => ({ kind: 'rejected', code })
const pub = (name: string, topic: string | Buffer, payload: string | Buffer, outcome: Outcome): Case => ({ name, run: (c) => c.send(rawPublish(topic, payload, 7)), expect: outcome })
const sub = (name: string, filter: string, outcome: Outcome, as?: 'subscriber'): Case => ({
  name, as, expect: outcome,
  run: (c) => c.send(generate({ cmd: 'subscribe', messageId: 9, subscriptions: [{ topic: filter, qos: 1 }] }))
})
const connect = (name: string, bytes: () => Buffer | string, outcome: Outcome): Case => ({ name, fresh: true, run: (c) => c.send(bytes()), expect: outcome })
const withKey = (clientId: string | Buffer): Buffer => rawConnect({ clientId, username: 'u', password: publisher.key })

const CASES: Case[] = [
  // publish topics
  pub('a + wildcard in a publish topic', 'strategy/sec1/+', SIGNAL, closed),
  pub('a # wildcard in a publish topic', 'strategy/sec1/#', SIGNAL, closed),
  pub('a wildcard in the middle of a publish topic', 'strategy/+/BTC', SIGNAL, closed),
  pub('a bare # as a publish topic', '#', SIGNAL, closed),
  pub('a topic 9 levels deep (limit 8)', 'strategy/sec1/a/b/c/d/e/f/g', SIGNAL, closed),
  pub('a topic 200 levels deep', `strategy/${'a/'.repeat(199)}b`, SIGNAL, closed),
  pub('an empty topic', '', SIGNAL, closed),
  pub('a topic with a NUL character', 'strategy/sec1/BT\u0000C', SIGNAL, rejected('validation_failed')),
  pub('a topic of invalid UTF-8', Buffer.from([0x73, 0x74, 0xff, 0xfe]), SIGNAL, rejected('forbidden')),
  pub('an oversized topic (packet past MQTT_MAX_PACKET_BYTES)', `strategy/sec1/${'X'.repeat(65000)}`, 'p'.repeat(2000), closed),
  pub('a 60 KB symbol within the packet limit', `strategy/sec1/${'X'.repeat(60000)}`, SIGNAL, rejected('validation_failed')),
  pub('a $SYS topic', '$SYS/broker/uptime', SIGNAL, rejected('forbidden')),
  pub('another user\'s notices', 'users/999999/notices', SIGNAL, rejected('forbidden')),
  pub('an unknown strategy', 'strategy/nope/BTC', SIGNAL, rejected('validation_failed')),
  pub('a strategy id with SQL', "strategy/sec1' OR '1'='1/BTC", SIGNAL, rejected('validation_failed')),
  pub('a symbol with SQL and spaces', "strategy/sec1/BTC' OR 1=1 --", SIGNAL, rejected('validation_failed')),
  // payloads
  pub('a payload that is not JSON', 'strategy/sec1/BTC', 'buy BTC now', rejected('validation_failed')),
  pub('a payload of invalid UTF-8', 'strategy/sec1/BTC', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), rejected('validation_failed')),
  pub('an empty payload', 'strategy/sec1/BTC', '', rejected('validation_failed')),
  pub('a JSON array payload', 'strategy/sec1/BTC', '[1,2,3]', rejected('validation_failed')),
  pub('a JSON null payload', 'strategy/sec1/BTC', 'null', rejected('validation_failed')),
  pub('a payload with server fields (seq, id)', 'strategy/sec1/BTC', JSON.stringify({ ...JSON.parse(SIGNAL) as object, seq: 1, id: 1 }), rejected('validation_failed')),
  pub('a payload with a wrong type', 'strategy/sec1/BTC', JSON.stringify({ type: "buy' OR 1=1", execute_date: '2026-01-01' }), rejected('validation_failed')),
  pub('a payload with a script as type', 'strategy/sec1/BTC', JSON.stringify({ type: '<script>', execute_date: '2026-01-01' }), rejected('validation_failed')),
  pub('a payload nested 10,000 levels', 'strategy/sec1/BTC', `{"type":"buy","execute_date":"2026-01-01","payload":${'['.repeat(10000)}${']'.repeat(10000)}}`, rejected('validation_failed')),
  pub('a 20 KB structured payload', 'strategy/sec1/BTC', JSON.stringify({ type: 'buy', execute_date: '2026-01-01', payload: { blob: 'p'.repeat(20000) } }), rejected('validation_failed')),
  pub('an oversized payload (70 KB)', 'strategy/sec1/BTC', 'x'.repeat(70000), closed),
  pub('a PUBLISH of exactly MQTT_MAX_PACKET_BYTES', 'strategy/sec1/BTC', 'x'.repeat(65536 - 21), rejected('validation_failed')),
  pub('a PUBLISH one byte past MQTT_MAX_PACKET_BYTES', 'strategy/sec1/BTC', 'x'.repeat(65536 - 20), closed),
  { name: 'a PUBLISH header announcing 256 MiB', expect: closed, run: (c) => c.send(Buffer.from([0x32, 0xff, 0xff, 0xff, 0x7f])) },
  { name: 'a PUBLISH with a remaining length of five bytes', expect: closed, run: (c) => c.send(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f])) },
  // subscriptions
  sub('a subscriber subscribing to #', '#', { kind: 'suback', granted: [128] }, 'subscriber'),
  sub('a subscriber subscribing to $SYS/#', '$SYS/#', { kind: 'suback', granted: [128] }, 'subscriber'),
  sub('a subscriber subscribing to strategy/#', 'strategy/#', { kind: 'suback', granted: [128] }, 'subscriber'),
  sub('a subscriber subscribing to users/+/notices', 'users/+/notices', { kind: 'suback', granted: [128] }, 'subscriber'),
  sub('an invalid filter a/#/b', 'strategy/#/b', closed, 'subscriber'),
  sub('an empty filter', '', closed, 'subscriber'),
  sub('a filter 9 levels deep', 'strategy/sec1/a/b/c/d/e/f/g', closed, 'subscriber'),
  { name: 'a SUBSCRIBE with QoS 3', as: 'subscriber', expect: closed, run: (c) => c.send(packet(0x82, Buffer.concat([Buffer.from([0, 9]), mqttString('strategy/sec1/BTC'), Buffer.from([3])]))) },
  { name: 'a SUBSCRIBE with no filter', as: 'subscriber', expect: closed, run: (c) => c.send(packet(0x82, Buffer.from([0, 9]))) },
  { name: 'a second CONNECT on a connection', expect: closed, run: (c) => c.send(withKey('second-connect')) },
  // client ids
  connect('a 10,000-character client id', () => withKey('c'.repeat(10000)), { kind: 'connack', returnCode: 2 }),
  connect('a client id with control characters', () => withKey('ctl\u0001\u001b[2J'), { kind: 'connack', returnCode: 2 }),
  connect('a client id with a NUL', () => withKey('nul\u0000id'), { kind: 'connack', returnCode: 2 }),
  connect('a client id of invalid UTF-8', () => withKey(Buffer.from([0x63, 0xff, 0xfe])), closed),
  connect('a client id with # and + (allowed by 3.1.1; never used as a topic)', () => withKey('strategy/#/+'), { kind: 'connack', returnCode: 0 }),
  // malformed packets
  connect('garbage bytes', () => Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), closed),
  connect('random binary', () => Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff, 0x13, 0x37]), closed),
  connect('a truncated CONNECT, then the client gives up', () => withKey('truncated').subarray(0, 12), closed),
  connect('a wrong protocol name', () => rawConnect({ protocol: 'MQTX', username: 'u', password: publisher.key }), closed),
  connect('MQTT 3.1.1 name with the 3.1 level', () => rawConnect({ level: 3, username: 'u', password: publisher.key }), { kind: 'connack', returnCode: 1 }),
  connect('protocol level 5', () => rawConnect({ level: 5, username: 'u', password: publisher.key }), closed),
  connect('protocol level 99', () => rawConnect({ level: 99, username: 'u', password: publisher.key }), closed),
  connect('the reserved CONNECT flag set', () => rawConnect({ flags: 0xc3, username: 'u', password: publisher.key }), closed),
  connect('a password without a username', () => rawConnect({ flags: 0x42, password: publisher.key }), closed),
  connect('an invalid remaining length (5 bytes)', () => Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f]), closed),
  connect('a remaining length past MQTT_MAX_PACKET_BYTES', () => Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]), closed),
  connect('a PUBLISH before CONNECT', () => rawPublish('strategy/sec1/BTC', SIGNAL), closed),
  connect('a SUBSCRIBE before CONNECT', () => generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '#', qos: 0 }] }), closed),
  connect('a PINGREQ before CONNECT', () => Buffer.from([0xc0, 0x00]), closed),
  connect('a reserved packet type 0', () => Buffer.from([0x00, 0x00]), closed),
  connect('a reserved packet type 15', () => Buffer.from([0xf0, 0x00]), closed),
  connect('a CONNECT with a wrong key', () => rawConnect({ username: 'u', password: "' OR '1'='1" }), { kind: 'connack', returnCode: 4 }),
  connect('a CONNECT with a 100 KB password', () => rawConnect({ username: 'u', password: 'p'.repeat(60000) }), { kind: 'connack', returnCode: 4 })
]

async function observe(conn: RawMqtt, expected: Outcome): Promise<Outcome> {
  switch (expected.kind) {
    case 'closed':
      return (await conn.closedWithin(4000)) ? closed : { kind: 'rejected', code: `still open: ${conn.packets.map((p) => p.cmd === 'connack' ? `connack ${p.returnCode ?? ''}` : p.cmd).join(', ')}` }
    case 'connack': {
      const ack = await conn.until((p) => p.cmd === 'connack', 5000)
      return ack?.cmd === 'connack' ? { kind: 'connack', returnCode: ack.returnCode ?? -1 } : closed
    }
    case 'suback': {
      const ack = await conn.until((p) => p.cmd === 'suback')
      return ack?.cmd === 'suback' ? { kind: 'suback', granted: ack.granted as number[] } : closed
    }
    case 'rejected': {
      const notice = await conn.until((p) => p.cmd === 'publish' && p.topic === `users/${publisher.id}/notices`, 5000)
      if (notice?.cmd !== 'publish') return closed
      expect(conn.packets.some((p: Packet) => p.cmd === 'puback' && p.messageId === 7)).toBe(true)
      return rejected((JSON.parse(notice.payload.toString()) as { code: string }).code)
    }
  }
}

beforeAll(async () => {
  hub = await startTestHub({ MQTT_MAX_PACKET_BYTES: '65536', MQTT_MAX_TOPIC_LEVELS: '8', AUTH_FAIL_LIMIT: '100000', AUTH_LOCKOUT_PREFIX_LIMIT: '100000' })
  port = hub.ports.mqtt
  publisher = await hub.user('mqtt-hostile-pub', 'publisher')
  subscriber = await hub.user('mqtt-hostile-sub', 'subscriber')
  await hub.strategy('sec1', publisher)
}, 60000)
afterAll(() => hub.shutdown())

describe('MQTT hostile input', () => {
  test('the table holds at least 50 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(50)
  })

  const run = async (c: Case): Promise<void> => {
    const before = await hub.database().models.Signal.count()
    let conn: RawMqtt
    if (c.fresh === true) {
      conn = new RawMqtt(port)
    } else {
      const user = c.as === 'subscriber' ? subscriber : publisher
      conn = await RawMqtt.connected(port, user.key, `hostile-${++seq}`)
      if (c.as !== 'subscriber') {
        conn.send(generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `users/${publisher.id}/notices`, qos: 0 }] }))
        expect((await conn.until((p) => p.cmd === 'suback'))?.cmd).toBe('suback')
      }
    }
    try {
      c.run(conn)
      if (c.name.includes('gives up')) setTimeout(() => conn.end(), 200)
      expect(await observe(conn, c.expect)).toEqual(c.expect)
    } finally {
      conn.destroy()
    }
    expect(await hub.database().models.Signal.count()).toBe(before)
  }
  test.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => run(c), 20000)

  test('afterwards: /healthz answers and a valid login publishes a signal', async () => {
    expect((await fetch(`${hub.baseUrl}/healthz`)).status).toBe(200)
    const conn = await RawMqtt.connected(port, publisher.key, 'hostile-after')
    try {
      conn.send(rawPublish('strategy/sec1/BTC', SIGNAL, 3))
      expect((await conn.until((p) => p.cmd === 'puback' && p.messageId === 3))?.cmd).toBe('puback')
    } finally {
      conn.destroy()
    }
    expect(await hub.database().models.Signal.count()).toBe(1)
  })
})
