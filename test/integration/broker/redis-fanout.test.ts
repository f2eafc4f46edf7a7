import { Buffer } from 'node:buffer'
import { Redis } from 'ioredis'
import msgpack from 'msgpack-lite'
import mqemitterRedis from 'mqemitter-redis'
import { fanoutLinks } from '../../../broker/persistence'
import { batchesOf, deliverLocallyFirst, MAX_PUBLISH_BATCH, MAX_PUBLISH_BATCH_BYTES, Origin } from '../../../broker/redis-fanout'
import { brokerRedisUrl, uniqueId } from './helpers'

describe('Origin: knowing this node\'s messages on their first bytes', () => {
  const message = { topic: 'strategy/s1/AAPL', payload: Buffer.from('{"seq":1}'), qos: 1, retain: false }

  it('knows the envelopes it encoded, and they decode as mqemitter-redis expects', () => {
    const origin = new Origin()
    for (let i = 0; i < 3; i++) {
      const envelope = origin.encode(message)
      expect(origin.sentHere(envelope)).toBe(true)
      const decoded = msgpack.decode(envelope) as { id: string, msg: typeof message }
      expect(decoded.id).toBe(`${origin.tag}.${(i + 1).toString(36)}`)
      expect(decoded.msg).toEqual(message)
    }
  })

  it('knows its ids written as longer strings too', () => {
    const origin = new Origin()
    const envelope = msgpack.encode({ id: `${origin.tag}.${'z'.repeat(40)}`, msg: message })
    expect(envelope[4]).toBe(0xd9)
    expect(origin.sentHere(envelope)).toBe(true)
  })

  it('does not take another node\'s, an mqemitter-redis or a malformed envelope for its own', () => {
    const origin = new Origin()
    const other = new Origin()
    expect(origin.sentHere(other.encode(message))).toBe(false)
    expect(origin.sentHere(msgpack.encode({ id: 'hyperid-like/0', msg: message }))).toBe(false)
    // the tag alone, without the separator that ends it
    expect(origin.sentHere(msgpack.encode({ id: origin.tag, msg: message }))).toBe(false)
    expect(origin.sentHere(msgpack.encode({ msg: message, id: origin.nextId() }))).toBe(false)
    expect(origin.sentHere(msgpack.encode({ id: 7, msg: message }))).toBe(false)
    for (const bytes of [[], [0x82], [0x82, 0xa2, 0x69, 0x64], [0x82, 0xa2, 0x69, 0x64, 0xa3, 0x61], [0xc1, 0, 0, 0, 0, 0]]) {
      expect(origin.sentHere(Buffer.from(bytes))).toBe(false)
    }
    expect(origin.sentHere(Buffer.from(origin.encode(message).subarray(0, 8)))).toBe(false)
  })
})

describe('batchesOf: the script calls of one turn', () => {
  const pairs = (sizes: number[]): Array<string | Buffer> => sizes.flatMap((size, i) => [`t/${i}`, Buffer.alloc(size, i % 256)])
  const flat = (batches: Array<Array<string | Buffer>>): Array<string | Buffer> => batches.flat()

  it('keeps every pair, in order, and cuts at MAX_PUBLISH_BATCH messages', () => {
    const queue = pairs(Array.from({ length: 2 * MAX_PUBLISH_BATCH + 1 }, () => 10))
    const batches = batchesOf(queue)
    expect(batches.map((b) => b.length / 2)).toEqual([MAX_PUBLISH_BATCH, MAX_PUBLISH_BATCH, 1])
    expect(flat(batches)).toEqual(queue)
  })

  it('cuts at MAX_PUBLISH_BATCH_BYTES, and sends a message larger than that alone', () => {
    const third = Math.floor(MAX_PUBLISH_BATCH_BYTES / 3)
    const queue = pairs([third, third, third, third, MAX_PUBLISH_BATCH_BYTES + 1, 1])
    const batches = batchesOf(queue)
    expect(batches.map((b) => b.length / 2)).toEqual([3, 1, 1, 1])
    expect(flat(batches)).toEqual(queue)
    for (const batch of batches) {
      const bytes = batch.filter((x) => Buffer.isBuffer(x)).reduce((n, b) => n + b.length, 0)
      expect(batch.length === 2 || bytes <= MAX_PUBLISH_BATCH_BYTES).toBe(true)
    }
  })

  it('makes no batch of an empty queue', () => {
    expect(batchesOf([])).toEqual([])
  })
})

const describeRedis = process.env.REDIS_URL ? describe : describe.skip

type Emitter = ReturnType<typeof mqemitterRedis> & { _cache: { size: number }, subConn: Redis }

describeRedis('Redis fan-out between nodes', () => {
  const url = brokerRedisUrl(7) as string
  const open: Emitter[] = []

  function node(wrapped: boolean, at = url): Emitter {
    const { pub, sub } = fanoutLinks(at)
    const emitter = mqemitterRedis({ pubConn: pub, subConn: sub }) as Emitter
    open.push(emitter)
    return wrapped ? deliverLocallyFirst(emitter, uniqueId('broker'), { pub, sub }) as Emitter : emitter
  }

  /** Subscribes and resolves once Redis has confirmed the subscription. */
  function listen(emitter: Emitter, topic: string, into: string[]): Promise<void> {
    return new Promise((resolve) => emitter.on(topic, (m, done) => { into.push(String(m.payload)); done() }, resolve))
  }

  async function until(check: () => boolean): Promise<void> {
    const deadline = Date.now() + 5000
    while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  }

  /**
   * Resolves once everything Redis had sent to `emitter`'s subscription link before now has
   * been handled: Redis answers a PING on that link after the messages queued ahead of it.
   */
  async function drained(emitter: Emitter): Promise<void> {
    await emitter.subConn.ping()
  }

  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => new Promise<void>((resolve) => e.close(() => resolve()))))
  })

  it.each([['an exact topic', false], ['a wildcard', true]])('delivers each message once on every node, and never decodes its own echo (%s)', async (_name, wildcard) => {
    const topic = `${uniqueId('fan')}/AAPL`
    const filter = wildcard ? `${topic.split('/')[0]}/#` : topic
    const a = node(true)
    const b = node(true)
    const atA: string[] = []
    const atB: string[] = []
    await listen(a, filter, atA)
    await listen(b, filter, atB)
    await new Promise<void>((resolve, reject) => a.emit({ topic, payload: 'from a' }, (err) => err ? reject(err) : resolve()))
    expect(atA).toEqual(['from a'])
    await until(() => atB.length > 0)
    await drained(a)
    await drained(b)
    expect(atA).toEqual(['from a'])
    expect(atB).toEqual(['from a'])
    // mqemitter-redis records every envelope it decodes: A never decoded its own
    expect(a._cache.size).toBe(0)
    expect(b._cache.size).toBe(1)
  })

  it('sends a burst of one turn in order, in several batches, to other nodes plain or not', async () => {
    const topic = `${uniqueId('burst')}/AAPL`
    const a = node(true)
    const b = node(true)
    const plain = node(false)
    const atA: string[] = []
    const atB: string[] = []
    const atPlain: string[] = []
    await listen(a, topic, atA)
    await listen(b, topic, atB)
    await listen(plain, topic, atPlain)
    const count = 2 * MAX_PUBLISH_BATCH + 7
    const sent = Array.from({ length: count }, (_, i) => `m${i}`)
    for (const payload of sent) a.emit({ topic, payload })
    await until(() => atB.length === count && atPlain.length === count)
    await drained(a)
    expect(atA).toEqual(sent)
    expect(atB).toEqual(sent)
    expect(atPlain).toEqual(sent)
    expect(a._cache.size).toBe(0)
  })

  it('sends large messages of one turn in order, in batches of bounded size', async () => {
    const topic = `${uniqueId('large')}/AAPL`
    const a = node(true)
    const b = node(true)
    const atB: string[] = []
    await listen(b, topic, atB)
    const size = Math.floor(MAX_PUBLISH_BATCH_BYTES * 0.6)
    const sent = ['a', 'b', 'c', 'd'].map((c) => c.repeat(size))
    for (const payload of sent) a.emit({ topic, payload })
    await until(() => atB.length === sent.length)
    expect(atB).toEqual(sent)
  })

  it('relays message by message, in order, when the server refuses scripts', async () => {
    const admin = new Redis(url, { maxRetriesPerRequest: 1 })
    const user = uniqueId('noscript')
    await admin.call('ACL', 'SETUSER', user, 'on', '>test-password', '~*', '&*', '+@all', '-@scripting')
    const restricted = new URL(url)
    restricted.username = user
    restricted.password = 'test-password'
    const a = node(true, restricted.toString())
    try {
      const topic = `${uniqueId('acl')}/AAPL`
      const b = node(true)
      const atB: string[] = []
      await listen(b, topic, atB)
      const first = Array.from({ length: 20 }, (_, i) => `first-${i}`)
      for (const payload of first) a.emit({ topic, payload })
      await until(() => atB.length === first.length)
      const second = Array.from({ length: 20 }, (_, i) => `second-${i}`)
      for (const payload of second) a.emit({ topic, payload })
      await until(() => atB.length === first.length + second.length)
      expect(atB).toEqual([...first, ...second])
    } finally {
      // Redis disconnects a deleted user's clients: close them first
      await new Promise<void>((resolve) => a.close(() => resolve()))
      await admin.call('ACL', 'DELUSER', user)
      admin.disconnect()
    }
  })

  it('sends what was queued in the turn it closes in', async () => {
    const topic = `${uniqueId('closing')}/AAPL`
    const a = node(true)
    const b = node(true)
    const atB: string[] = []
    await listen(b, topic, atB)
    const sent = ['m1', 'm2', 'm3']
    for (const payload of sent) a.emit({ topic, payload })
    await new Promise<void>((resolve) => a.close(() => resolve()))
    await until(() => atB.length === sent.length)
    expect(atB).toEqual(sent)
  })

  it('still delivers from a node that sends through plain mqemitter-redis', async () => {
    const topic = `${uniqueId('old')}/AAPL`
    const wrapped = node(true)
    const plain = node(false)
    const received: string[] = []
    await listen(wrapped, topic, received)
    await new Promise<void>((resolve, reject) => plain.emit({ topic, payload: 'from an older node' }, (err) => err ? reject(err) : resolve()))
    await drained(wrapped)
    expect(received).toEqual(['from an older node'])
  })

  it('keeps a subscription link usable when a subscription is made the moment it connects', async () => {
    const { pub, sub } = fanoutLinks(url)
    const subscribed = new Promise<void>((resolve, reject) => {
      sub.once('connect', () => { sub.subscribe(uniqueId('early')).then(() => resolve(), reject) })
    })
    try {
      await subscribed
      await expect(sub.ping()).resolves.toEqual(['pong', ''])
      expect(sub.status).toBe('ready')
    } finally {
      sub.disconnect()
      pub.disconnect()
    }
  })
})
