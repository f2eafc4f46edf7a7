import { Buffer } from 'node:buffer'
import { Redis } from 'ioredis'
import { decodeFrame, FanoutFrames, ORIGIN_BYTES, type FanoutMessage } from '../../../broker/fanout-frame'
import { fanoutChannel } from '../../../broker/persistence'
import { batchesOf, MAX_PUBLISH_BATCH, MAX_PUBLISH_BATCH_BYTES } from '../../../broker/publish-batcher'
import { RedisEmitter } from '../../../broker/redis-emitter'
import { TcpProxy } from '../../reliability/helpers'
import { eventually, uniqueId } from './helpers'

describe('FanoutFrames: one message between nodes', () => {
  const packet = { cmd: 'publish', brokerId: 'b1', brokerCounter: 7, topic: 'strategy/s1/AAPL', payload: Buffer.from('{"seq":1}'), qos: 1, retain: false, dup: false, clientId: 'c1' }

  it('decodes what it encodes: every field, a Buffer payload as a Buffer, a string payload as a string, none as none', () => {
    const frames = new FanoutFrames()
    expect(decodeFrame(frames.encode(packet))).toEqual(packet)
    expect(Buffer.isBuffer(decodeFrame(frames.encode(packet))?.payload)).toBe(true)
    const text = { topic: '$SYS/sub/add', payload: '{"clientId":"é"}' }
    expect(decodeFrame(frames.encode(text))).toEqual(text)
    expect(decodeFrame(frames.encode({ topic: 'a/b', qos: 0 }))).toEqual({ topic: 'a/b', qos: 0 })
    expect(decodeFrame(frames.encode({ ...packet, payload: Buffer.alloc(0) }))?.payload).toEqual(Buffer.alloc(0))
  })

  it('refuses a payload that is neither a Buffer nor a string', () => {
    expect(() => new FanoutFrames().encode({ topic: 'a', payload: 42 })).toThrow(TypeError)
  })

  it('knows its own frames by their first bytes, and not another node\'s', () => {
    const here = new FanoutFrames()
    const there = new FanoutFrames()
    expect(here.sentHere(here.encode(packet))).toBe(true)
    expect(here.sentHere(there.encode(packet))).toBe(false)
    expect(here.sentHere(here.origin.subarray(0, ORIGIN_BYTES - 1))).toBe(false)
    expect(here.sentHere(Buffer.alloc(0))).toBe(false)
    expect(() => new FanoutFrames(Buffer.alloc(ORIGIN_BYTES - 1))).toThrow()
  })

  it('reads nothing from a malformed frame', () => {
    const good = new FanoutFrames().encode(packet)
    const withHeader = (kind: number, header: string, payload = ''): Buffer => {
      const bytes = Buffer.from(header)
      const length = Buffer.alloc(4)
      length.writeUInt32BE(bytes.length)
      return Buffer.concat([Buffer.alloc(ORIGIN_BYTES), Buffer.from([kind]), length, bytes, Buffer.from(payload)])
    }
    const malformed = [
      Buffer.alloc(0),
      good.subarray(0, ORIGIN_BYTES + 4),
      good.subarray(0, ORIGIN_BYTES + 8),
      withHeader(3, '{"topic":"a"}'),
      withHeader(2, '{"topic":"a"}', 'trailing bytes'),
      withHeader(0, '{"topic":'),
      withHeader(0, 'null'),
      withHeader(0, '[1,2]'),
      withHeader(0, '"a"'),
      withHeader(0, '{"qos":1}'),
      withHeader(0, '{"topic":""}'),
      withHeader(0, '{"topic":7}'),
      withHeader(0, '{"topic":"a","payload":"smuggled"}')
    ]
    for (const frame of malformed) expect(decodeFrame(frame)).toBeUndefined()
    const tooLong = Buffer.from(good)
    tooLong.writeUInt32BE(good.length, ORIGIN_BYTES + 1)
    expect(decodeFrame(tooLong)).toBeUndefined()
  })
})

describe('batchesOf: the script calls of one turn', () => {
  const frames = (sizes: number[]): Buffer[] => sizes.map((size, i) => Buffer.alloc(size, i % 256))

  it('keeps every frame, in order, and cuts at MAX_PUBLISH_BATCH frames', () => {
    const queue = frames(Array.from({ length: 2 * MAX_PUBLISH_BATCH + 1 }, () => 10))
    const batches = batchesOf(queue)
    expect(batches.map((b) => b.length)).toEqual([MAX_PUBLISH_BATCH, MAX_PUBLISH_BATCH, 1])
    expect(batches.flat()).toEqual(queue)
  })

  it('cuts at MAX_PUBLISH_BATCH_BYTES, and sends a frame larger than that alone', () => {
    const third = Math.floor(MAX_PUBLISH_BATCH_BYTES / 3)
    const queue = frames([third, third, third, third, MAX_PUBLISH_BATCH_BYTES + 1, 1])
    const batches = batchesOf(queue)
    expect(batches.map((b) => b.length)).toEqual([3, 1, 1, 1])
    expect(batches.flat()).toEqual(queue)
    for (const batch of batches) {
      expect(batch.length === 1 || batch.reduce((n, b) => n + b.length, 0) <= MAX_PUBLISH_BATCH_BYTES).toBe(true)
    }
  })

  it('makes no batch of nothing', () => {
    expect(batchesOf([])).toEqual([])
  })
})

function fanoutChannelFor(prefix = `${uniqueId('shf')}:`): string {
  return fanoutChannel({ REDIS_PREFIX: prefix })
}

/** Subscribes `into` to `topic` on `emitter`; resolves once the emitter hears the other nodes too. */
function listen(emitter: RedisEmitter, topic: string, into: string[]): Promise<void> {
  return new Promise((resolve) => emitter.on(topic, (m, done) => { into.push(String(m.payload)); done() }, resolve))
}

function emitted(emitter: RedisEmitter, message: FanoutMessage): Promise<void> {
  return new Promise((resolve, reject) => emitter.emit(message, (err) => err ? reject(err) : resolve()))
}

function closed(emitter: RedisEmitter): Promise<void> {
  return new Promise((resolve) => emitter.close(resolve))
}

describe('RedisEmitter without a Redis that answers', () => {
  let proxy: TcpProxy

  beforeEach(async () => {
    proxy = await TcpProxy.start('127.0.0.1', 9)
  })
  afterEach(async () => {
    await proxy.close()
  })

  it.each<['hang' | 'refuse']>([['hang'], ['refuse']])('delivers to this node\'s subscribers at once, and closes, when Redis never answers (%s)', async (mode) => {
    proxy.cut(mode)
    const emitter = new RedisEmitter({ url: proxy.route('redis://127.0.0.1:6379'), channel: fanoutChannelFor() })
    const received: string[] = []
    emitter.on('strategy/+/AAPL', (m, done) => { received.push(String(m.payload)); done() })
    await emitted(emitter, { topic: 'strategy/s1/AAPL', payload: Buffer.from('local') })
    await emitted(emitter, { topic: 'strategy/s1/MSFT', payload: Buffer.from('not matched') })
    // a payload no frame can carry still reaches this node's subscribers
    await emitted(emitter, { topic: 'strategy/s1/AAPL', payload: 42 })
    expect(received).toEqual(['local', '42'])
    await closed(emitter)
    await expect(emitted(emitter, { topic: 'strategy/s1/AAPL', payload: 'after close' })).rejects.toThrow()
    expect(received).toEqual(['local', '42'])
  })
})

const describeRedis = process.env.REDIS_URL ? describe : describe.skip

describeRedis('RedisEmitter between nodes (real Redis)', () => {
  const url = process.env.REDIS_URL as string
  const open: RedisEmitter[] = []

  function node(channel: string, at = url): RedisEmitter {
    const emitter = new RedisEmitter({ url: at, channel })
    open.push(emitter)
    return emitter
  }

  afterEach(async () => {
    await Promise.all(open.splice(0).map(closed))
  })

  it.each([['an exact topic', false], ['a wildcard', true]])('delivers each message exactly once on every node, its own node first (%s)', async (_name, wildcard) => {
    const channel = fanoutChannelFor()
    const topic = `${uniqueId('fan')}/AAPL`
    const filter = wildcard ? `${topic.split('/')[0]}/#` : topic
    const a = node(channel)
    const b = node(channel)
    const atA: string[] = []
    const atB: string[] = []
    await listen(a, filter, atA)
    await listen(b, filter, atB)
    await emitted(a, { topic, payload: 'from a' })
    expect(atA).toEqual(['from a'])
    await eventually(() => atB.length > 0)
    // Redis sends each link its messages in the order it took them: once a marker from B
    // has reached A (and one from A has reached B), each node's own echo has been heard
    await emitted(b, { topic, payload: 'marker from b' })
    await eventually(() => atA.includes('marker from b'))
    await emitted(a, { topic, payload: 'marker from a' })
    await eventually(() => atB.includes('marker from a'))
    expect(atA).toEqual(['from a', 'marker from b', 'marker from a'])
    expect(atB).toEqual(['from a', 'marker from b', 'marker from a'])
  })

  it('sends a burst of one turn in order, in several script calls', async () => {
    const channel = fanoutChannelFor()
    const topic = `${uniqueId('burst')}/AAPL`
    const a = node(channel)
    const b = node(channel)
    const atA: string[] = []
    const atB: string[] = []
    await listen(a, topic, atA)
    await listen(b, topic, atB)
    const sent = Array.from({ length: 2 * MAX_PUBLISH_BATCH + 7 }, (_, i) => `m${i}`)
    for (const payload of sent) a.emit({ topic, payload })
    await eventually(() => atB.length === sent.length)
    await emitted(b, { topic, payload: 'marker' })
    await eventually(() => atA.includes('marker'))
    expect(atA).toEqual([...sent, 'marker'])
    expect(atB).toEqual([...sent, 'marker'])
  })

  it('sends large messages of one turn in order, in batches of bounded size', async () => {
    const channel = fanoutChannelFor()
    const topic = `${uniqueId('large')}/AAPL`
    const a = node(channel)
    const b = node(channel)
    const atB: string[] = []
    await listen(b, topic, atB)
    const size = Math.floor(MAX_PUBLISH_BATCH_BYTES * 0.6)
    const sent = ['a', 'b', 'c', 'd'].map((c) => c.repeat(size))
    for (const payload of sent) a.emit({ topic, payload })
    await eventually(() => atB.length === sent.length)
    expect(atB).toEqual(sent)
  })

  it('relays message by message, in order, when the server refuses scripts', async () => {
    const admin = new Redis(url, { maxRetriesPerRequest: 1 })
    const user = uniqueId('noscript')
    await admin.call('ACL', 'SETUSER', user, 'on', '>test-password', '~*', '&*', '+@all', '-@scripting')
    const restricted = new URL(url)
    restricted.username = user
    restricted.password = 'test-password'
    const channel = fanoutChannelFor()
    const a = new RedisEmitter({ url: restricted.toString(), channel })
    try {
      const topic = `${uniqueId('acl')}/AAPL`
      const b = node(channel)
      const atB: string[] = []
      await listen(b, topic, atB)
      await listen(a, topic, [])
      const first = Array.from({ length: 20 }, (_, i) => `first-${i}`)
      for (const payload of first) a.emit({ topic, payload })
      const second = Array.from({ length: 20 }, (_, i) => `second-${i}`)
      setImmediate(() => { for (const payload of second) a.emit({ topic, payload }) })
      await eventually(() => atB.length === first.length + second.length)
      expect(atB).toEqual([...first, ...second])
      const third = Array.from({ length: 5 }, (_, i) => `third-${i}`)
      for (const payload of third) a.emit({ topic, payload })
      await eventually(() => atB.length === first.length + second.length + third.length)
      expect(atB.slice(first.length + second.length)).toEqual(third)
    } finally {
      // Redis disconnects a deleted user's clients: close them first
      await closed(a)
      await admin.call('ACL', 'DELUSER', user)
      admin.disconnect()
    }
  })

  it('sends what was queued in the turn it closes in', async () => {
    const channel = fanoutChannelFor()
    const topic = `${uniqueId('closing')}/AAPL`
    const a = new RedisEmitter({ url, channel })
    const b = node(channel)
    const atB: string[] = []
    await listen(b, topic, atB)
    await listen(a, topic, [])
    const sent = ['m1', 'm2', 'm3']
    for (const payload of sent) a.emit({ topic, payload })
    await closed(a)
    await eventually(() => atB.length === sent.length)
    expect(atB).toEqual(sent)
  })

  it('keeps deployments with different REDIS_PREFIX apart on one Redis server', async () => {
    const topic = `${uniqueId('prefix')}/AAPL`
    const first = fanoutChannelFor(`${uniqueId('sha')}:`)
    const second = fanoutChannelFor(`${uniqueId('shb')}:`)
    const a1 = node(first)
    const b1 = node(first)
    const a2 = node(second)
    const b2 = node(second)
    const atB1: string[] = []
    const atB2: string[] = []
    await listen(b1, topic, atB1)
    await listen(b2, topic, atB2)
    await emitted(a1, { topic, payload: 'first deployment' })
    await eventually(() => atB1.length > 0)
    // Redis took the first deployment's message before this one: had B2 heard that channel,
    // the message would have reached it before the marker
    await emitted(a2, { topic, payload: 'marker' })
    await eventually(() => atB2.length > 0)
    expect(atB1).toEqual(['first deployment'])
    expect(atB2).toEqual(['marker'])
  })

  it('drops what is not a frame on its channel, and goes on delivering', async () => {
    const channel = fanoutChannelFor()
    const topic = `${uniqueId('junk')}/AAPL`
    const a = node(channel)
    const b = node(channel)
    const atB: string[] = []
    await listen(b, topic, atB)
    const stranger = new Redis(url)
    try {
      await stranger.publish(channel, 'not a frame')
      await stranger.publish(channel, Buffer.alloc(64, 0xff))
      await stranger.publish(channel, '')
    } finally {
      stranger.disconnect()
    }
    await emitted(a, { topic, payload: 'after the junk' })
    await eventually(() => atB.length > 0)
    expect(atB).toEqual(['after the junk'])
  })

  it('delivers messages from the other nodes again after its subscription link is cut', async () => {
    const target = new URL(url)
    const proxy = await TcpProxy.start(target.hostname, Number(target.port || 6379))
    try {
      const channel = fanoutChannelFor()
      const topic = `${uniqueId('cut')}/AAPL`
      const a = node(channel)
      const b = node(channel, proxy.route(url))
      const atB: string[] = []
      await listen(b, topic, atB)
      await emitted(a, { topic, payload: 'before' })
      await eventually(() => atB.length === 1)
      proxy.restore()
      let n = 0
      await eventually(async () => {
        await emitted(a, { topic, payload: `after ${++n}` })
        return atB.length > 1
      }, 15_000, 200)
      expect(atB[0]).toBe('before')
      expect(atB.slice(1).every((m) => m.startsWith('after '))).toBe(true)
    } finally {
      await proxy.close()
    }
  })
})
