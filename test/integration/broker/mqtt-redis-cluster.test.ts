import { Redis } from 'ioredis'
import { brokerRedisUrl, closed, Inbox, publish, signalBody, startBrokerNode, subscribe, TestClients, uniqueId, type BrokerNode } from './helpers'

const describeRedis = process.env.REDIS_URL ? describe : describe.skip
const REDIS_DB = 6

describeRedis('mqtt with redis', () => {
  const clients = new TestClients()
  let a: BrokerNode
  let b: BrokerNode
  let prefix: string

  beforeAll(async () => {
    const redis = new Redis(brokerRedisUrl(REDIS_DB) as string)
    await redis.flushdb()
    await redis.quit()
  })
  beforeEach(async () => {
    prefix = `${uniqueId('shc')}:`
    const env = { REDIS_URL: brokerRedisUrl(REDIS_DB), REDIS_PREFIX: prefix }
    a = await startBrokerNode(env)
    b = await startBrokerNode(env, a.scratch)
  })
  afterEach(async () => {
    await clients.endAll()
    await b.stop()
    await a.shutdown()
  })

  test('a signal published on one node is delivered exactly once to subscribers on both nodes', async () => {
    const owner = await a.user('owner', 'publisher')
    const reader = await a.user('reader')
    const strategy = uniqueId('clu')
    await a.strategy(strategy, owner)
    await a.subscribe(reader, strategy)
    await b.core.policy.reload()
    const [atA, atB] = await Promise.all([a, b].map(async (node) => {
      const subscriber = await clients.connect(node.mqttUrl, { password: reader.key, clientId: uniqueId('sub-') })
      const inbox = new Inbox(subscriber)
      expect(await subscribe(subscriber, [`strategy/${strategy}/#`])).toEqual([1])
      return inbox
    }))
    const [fromA, fromB] = await Promise.all([a, b].map((node) => clients.connect(node.mqttUrl, { password: owner.key, clientId: uniqueId('pub-') })))
    const topic = (symbol: string): string => `strategy/${strategy}/${symbol}`
    await publish(fromA, topic('AAPL'), signalBody())
    expect((await atB.next(topic('AAPL'))).json()).toMatchObject({ seq: 1, strategy_id: strategy })
    expect((await atA.next(topic('AAPL'))).json()).toMatchObject({ seq: 1 })
    // Redis sends each node its messages in the order it took them: a marker from the other
    // node arrives after anything Redis still had for that node
    await publish(fromB, topic('MSFT'), signalBody())
    await atA.next(topic('MSFT'))
    await atB.next(topic('MSFT'))
    await publish(fromA, topic('TSLA'), signalBody())
    await atB.next(topic('TSLA'))
    await atA.next(topic('TSLA'))
    for (const inbox of [atA, atB]) expect(inbox.messages.filter((m) => m.topic.startsWith(`strategy/${strategy}/`))).toEqual([])
  })

  test('nodes of another deployment (another REDIS_PREFIX) on the same Redis hear nothing of this one', async () => {
    const otherEnv = { REDIS_URL: brokerRedisUrl(REDIS_DB), REDIS_PREFIX: `${uniqueId('sho')}:` }
    const c = await startBrokerNode(otherEnv, a.scratch)
    const d = await startBrokerNode(otherEnv, a.scratch)
    try {
      const owner = await a.user('owner', 'publisher')
      const reader = await a.user('reader')
      const strategy = uniqueId('iso')
      await a.strategy(strategy, owner)
      await a.subscribe(reader, strategy)
      await Promise.all([b, c, d].map((node) => node.core.policy.reload()))
      const [atB, atC] = await Promise.all([b, c].map(async (node) => {
        const subscriber = await clients.connect(node.mqttUrl, { password: reader.key, clientId: uniqueId('sub-') })
        const inbox = new Inbox(subscriber)
        expect(await subscribe(subscriber, [`strategy/${strategy}/#`])).toEqual([1])
        return inbox
      }))
      const [fromA, fromD] = await Promise.all([a, d].map((node) => clients.connect(node.mqttUrl, { password: owner.key, clientId: uniqueId('pub-') })))
      await publish(fromA, `strategy/${strategy}/AAPL`, signalBody({ description: 'this deployment' }))
      await atB.next(`strategy/${strategy}/AAPL`)
      // Redis took A's message before D's: had C heard A's deployment, it would have come first
      await publish(fromD, `strategy/${strategy}/MSFT`, signalBody({ description: 'the other deployment' }))
      expect((await atC.next(`strategy/${strategy}/MSFT`)).json()).toMatchObject({ description: 'the other deployment' })
      expect(atC.count(`strategy/${strategy}/AAPL`)).toBe(0)
    } finally {
      await clients.endAll()
      await d.stop()
      await c.stop()
    }
  })

  test('a key revoked on one node closes its session on the other within 5 s', async () => {
    const alice = await a.user('alice')
    const client = await clients.connect(b.mqttUrl, { password: alice.key, clientId: uniqueId('b-') })
    const started = Date.now()
    const gone = closed(client)
    await a.core.keys.revoke(alice.keyId)
    await gone
    expect(Date.now() - started).toBeLessThan(5000)
  })

  test('queued QoS 1 signals survive a restart of the broker', async () => {
    const owner = await a.user('owner', 'publisher')
    const reader = await a.user('reader')
    const strategy = uniqueId('rst')
    await a.strategy(strategy, owner)
    await a.subscribe(reader, strategy)
    const clientId = uniqueId('durable-')
    const first = await clients.connect(a.mqttUrl, { password: reader.key, clientId, clean: false })
    await subscribe(first, [`strategy/${strategy}/#`])
    await new Promise<void>((resolve) => first.end(false, {}, () => resolve()))
    const publisher = await clients.connect(a.mqttUrl, { password: owner.key, clientId: uniqueId('pub-') })
    await publish(publisher, `strategy/${strategy}/AAPL`, signalBody({ description: 'queued' }))
    await clients.endAll()

    await b.stop()
    await a.stop()
    const env = { REDIS_URL: brokerRedisUrl(REDIS_DB), REDIS_PREFIX: prefix }
    a = await startBrokerNode(env, a.scratch)
    b = await startBrokerNode(env, a.scratch)
    const again = await clients.connect(a.mqttUrl, { password: reader.key, clientId, clean: false })
    const inbox = new Inbox(again)
    expect((await inbox.next(`strategy/${strategy}/AAPL`)).json()).toMatchObject({ seq: 1, description: 'queued' })
  })

  test('a persistent session\'s acknowledged QoS 1 signal is not sent again when it reconnects', async () => {
    const owner = await a.user('owner', 'publisher')
    const reader = await a.user('reader')
    const strategy = uniqueId('ack')
    await a.strategy(strategy, owner)
    await a.subscribe(reader, strategy)
    const clientId = uniqueId('durable-ack-')
    const first = await clients.connect(a.mqttUrl, { password: reader.key, clientId, clean: false })
    const inbox = new Inbox(first)
    await subscribe(first, [`strategy/${strategy}/#`])
    const publisher = await clients.connect(a.mqttUrl, { password: owner.key, clientId: uniqueId('pub-') })
    await publish(publisher, `strategy/${strategy}/AAPL`, signalBody({ description: 'acknowledged' }))
    expect((await inbox.next(`strategy/${strategy}/AAPL`)).packet.retain).toBe(false)
    // MQTT.js has sent the PUBACK once the message event fired; ending cleanly flushes it
    await new Promise<void>((resolve) => first.end(false, {}, () => resolve()))

    const again = await clients.connect(a.mqttUrl, { password: reader.key, clientId, clean: false })
    const later = new Inbox(again)
    await publish(publisher, `strategy/${strategy}/MSFT`, signalBody({ description: 'after the reconnect' }))
    await later.next(`strategy/${strategy}/MSFT`)
    expect(later.count(`strategy/${strategy}/AAPL`)).toBe(0)
  })

  test('a clean session empties what an earlier persistent session with its client id left queued, and QoS 1 to it is acknowledged', async () => {
    const owner = await a.user('owner', 'publisher')
    const reader = await a.user('reader')
    const strategy = uniqueId('stale')
    await a.strategy(strategy, owner)
    await a.subscribe(reader, strategy)
    // retained copies come with every new subscription; a queued message comes without the retain flag
    const queued = (inbox: Inbox, topic: string): number => inbox.messages.filter((m) => m.topic === `strategy/${strategy}/${topic}` && !m.packet.retain).length
    const clientId = uniqueId('reused-')
    const durable = await clients.connect(a.mqttUrl, { password: reader.key, clientId, clean: false })
    await subscribe(durable, [`strategy/${strategy}/#`])
    await new Promise<void>((resolve) => durable.end(false, {}, () => resolve()))
    const publisher = await clients.connect(a.mqttUrl, { password: owner.key, clientId: uniqueId('pub-') })
    await publish(publisher, `strategy/${strategy}/AAPL`, signalBody({ description: 'queued for the old session' }))

    // the same client id, clean: Aedes drops the queue; this session receives and acknowledges QoS 1 itself
    const clean = await clients.connect(a.mqttUrl, { password: reader.key, clientId, clean: true })
    const cleanInbox = new Inbox(clean)
    await subscribe(clean, [`strategy/${strategy}/#`])
    await publish(publisher, `strategy/${strategy}/MSFT`, signalBody({ description: 'to the clean session' }))
    expect((await cleanInbox.next(`strategy/${strategy}/MSFT`)).json()).toMatchObject({ description: 'to the clean session' })
    expect(queued(cleanInbox, 'AAPL')).toBe(0)
    await new Promise<void>((resolve) => clean.end(false, {}, () => resolve()))

    // a later persistent session with that id starts empty
    const later = await clients.connect(a.mqttUrl, { password: reader.key, clientId, clean: false })
    const laterInbox = new Inbox(later)
    await subscribe(later, [`strategy/${strategy}/#`])
    await publish(publisher, `strategy/${strategy}/TSLA`, signalBody({ description: 'after' }))
    expect((await laterInbox.next(`strategy/${strategy}/TSLA`)).packet.retain).toBe(false)
    expect(queued(laterInbox, 'AAPL')).toBe(0)
    expect(queued(laterInbox, 'MSFT')).toBe(0)
  })
})
