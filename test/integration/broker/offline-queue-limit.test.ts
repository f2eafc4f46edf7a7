import { Redis } from 'ioredis'
import { offlineQueueKey } from '../../../broker/redis-persistence'
import { brokerRedisUrl, eventually, Inbox, startBrokerNode, subscribe, TestClients, uniqueId, type BrokerNode } from './helpers'

const describeRedis = process.env.REDIS_URL ? describe : describe.skip
const REDIS_DB = 8
const LIMIT = 3

/**
 * MQTT_QUEUE_LIMIT trims the list aedes-persistence-redis keeps each session's queue in,
 * named by its private key layout (package.json pins the version): this fails if the
 * layout changes under a new version.
 */
describeRedis('offline queue limit (aedes-persistence-redis key layout)', () => {
  const clients = new TestClients()
  let node: BrokerNode
  let redis: Redis
  let prefix: string

  beforeEach(async () => {
    prefix = `${uniqueId('shq')}:`
    node = await startBrokerNode({ REDIS_URL: brokerRedisUrl(REDIS_DB), REDIS_PREFIX: prefix, MQTT_QUEUE_LIMIT: String(LIMIT) })
    redis = new Redis(brokerRedisUrl(REDIS_DB) as string)
  })
  afterEach(async () => {
    await clients.endAll()
    await node.shutdown()
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    redis.disconnect()
  })

  test('an offline persistent session keeps only its newest MQTT_QUEUE_LIMIT messages, in the list the library reads them from', async () => {
    const owner = await node.user('owner', 'publisher')
    const reader = await node.user('reader')
    const strategy = uniqueId('lim')
    await node.strategy(strategy, owner)
    await node.subscribe(reader, strategy)
    const clientId = uniqueId('durable-')
    const first = await clients.connect(node.mqttUrl, { password: reader.key, clientId, clean: false })
    expect(await subscribe(first, [`strategy/${strategy}/#`])).toEqual([1])
    await new Promise<void>((resolve) => first.end(false, {}, () => resolve()))

    const topic = `strategy/${strategy}/AAPL`
    const sent = Array.from({ length: LIMIT + 2 }, (_, i) => `m${i + 1}`)
    for (const payload of sent) await node.broker.sink.publish(topic, Buffer.from(payload), { qos: 1, retain: false })
    const queue = `${prefix}mqtt:${offlineQueueKey(clientId)}`
    await eventually(async () => await redis.llen(queue) === LIMIT)
    const packetKeys = await redis.lrange(queue, 0, -1)
    expect(packetKeys.every((key) => key.startsWith('packet:'))).toBe(true)
    expect(await redis.exists(...packetKeys.map((key) => `${prefix}mqtt:${key}`))).toBe(LIMIT)

    const again = await clients.connect(node.mqttUrl, { password: reader.key, clientId, clean: false })
    const inbox = new Inbox(again)
    const oldest = await inbox.next(topic)
    // a live message after the queue: once it is here, the whole queue is
    await node.broker.sink.publish(`strategy/${strategy}/MARK`, Buffer.from('marker'), { qos: 1, retain: false })
    await inbox.next(`strategy/${strategy}/MARK`)
    const received = [oldest, ...inbox.messages.filter((m) => m.topic === topic)].map((m) => m.payload.toString())
    expect(received).toEqual(sent.slice(-LIMIT))
  })
})
