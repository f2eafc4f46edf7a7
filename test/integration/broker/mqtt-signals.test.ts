import { uniqueId, type TestUser } from '../../helpers/fixtures'
import { startTestHub, type TestHub } from '../../helpers/hub'
import { Inbox, publish, signalBody, subscribe, TestClients } from '../../helpers/mqtt-clients'

describe('mqtt signals', () => {
  let node: TestHub
  const clients = new TestClients()
  let owner: TestUser
  let reader: TestUser
  let strategy: string

  beforeAll(async () => { node = await startTestHub() })
  beforeEach(async () => {
    owner = await node.user(uniqueId('owner'), 'publisher')
    reader = await node.user(uniqueId('reader'))
    strategy = uniqueId('sig')
    await node.strategy(strategy, owner)
    await node.subscribe(reader, strategy)
  })
  afterEach(() => clients.endAll())
  afterAll(() => node.shutdown())

  const as = (user: TestUser) => clients.connect(node.mqttUrl, { password: user.key })

  test('a signal published over MQTT is stored with its seq and delivered as canonical JSON', async () => {
    const subscriber = await as(reader)
    const inbox = new Inbox(subscriber)
    await subscribe(subscriber, [`strategy/${strategy}/+`])
    const publisher = await as(owner)
    await publish(publisher, `strategy/${strategy}/AAPL`, signalBody({ payload: { price: 1.5 } }))
    const message = await inbox.next(`strategy/${strategy}/AAPL`)
    const signal = message.json()
    expect(Object.keys(signal)).toEqual(['id', 'seq', 'strategy_id', 'symbol', 'type', 'execute_date', 'description', 'payload', 'publisher', 'created_at'])
    expect(signal).toMatchObject({ seq: 1, strategy_id: strategy, symbol: 'AAPL', type: 'buy', payload: { price: 1.5 }, publisher: owner.id, execute_date: '2026-11-21T01:30:00.000Z' })
    const stored = await node.database().models.Signal.findOne({ where: { strategy_id: strategy } })
    expect(stored?.id).toBe(signal.id)
    expect(message.packet.qos).toBe(1)
  })

  test('an invalid signal is neither stored nor delivered, and a notice says why', async () => {
    const subscriber = await as(reader)
    const inbox = new Inbox(subscriber)
    await subscribe(subscriber, [`strategy/${strategy}/+`])
    const publisher = await as(owner)
    const notices = new Inbox(publisher)
    await subscribe(publisher, [`users/${owner.id}/notices`])
    await publish(publisher, `strategy/${strategy}/AAPL`, { type: 'moon', execute_date: 'tomorrow' })
    const notice = (await notices.next(`users/${owner.id}/notices`)).json<{ code: string, issues: Array<{ path: string }> }>()
    expect(notice).toMatchObject({ type: 'publish_rejected', topic: `strategy/${strategy}/AAPL`, code: 'validation_failed' })
    expect(notice.issues.map((i) => i.path).sort()).toEqual(['execute_date', 'type'])
    await publish(publisher, `strategy/${strategy}/AAPL`, 'not json')
    expect((await notices.next(`users/${owner.id}/notices`)).json()).toMatchObject({ code: 'validation_failed' })
    expect(publisher.connected).toBe(true)
    // a valid one afterwards gets seq 1: nothing was stored before it, and it is the first delivered
    await publish(publisher, `strategy/${strategy}/AAPL`, signalBody())
    expect((await inbox.next(`strategy/${strategy}/AAPL`)).json()).toMatchObject({ seq: 1 })
    expect(inbox.count(`strategy/${strategy}/AAPL`)).toBe(0)
    expect(await node.database().models.Signal.count({ where: { strategy_id: strategy } })).toBe(1)
  })

  test('the raw publisher packet is not retained: a late subscriber gets the canonical retained signal', async () => {
    const publisher = await as(owner)
    await publish(publisher, `strategy/${strategy}/MSFT`, signalBody({ description: 'first' }), { retain: true })
    await publish(publisher, `strategy/${strategy}/MSFT`, signalBody({ description: 'second' }), { retain: true })
    const late = await as(reader)
    const inbox = new Inbox(late)
    await subscribe(late, [`strategy/${strategy}/MSFT`])
    const retained = await inbox.next(`strategy/${strategy}/MSFT`)
    expect(retained.packet.retain).toBe(true)
    expect(retained.json()).toMatchObject({ seq: 2, description: 'second' })
  })

  test('an idempotency_key repeated stores and delivers the signal once', async () => {
    const subscriber = await as(reader)
    const inbox = new Inbox(subscriber)
    await subscribe(subscriber, [`strategy/${strategy}/+`])
    const publisher = await as(owner)
    await publish(publisher, `strategy/${strategy}/AAPL`, signalBody({ idempotency_key: 'k1' }))
    await publish(publisher, `strategy/${strategy}/AAPL`, signalBody({ idempotency_key: 'k1' }))
    await publish(publisher, `strategy/${strategy}/AAPL`, signalBody({ description: 'next' }))
    expect((await inbox.next(`strategy/${strategy}/AAPL`)).json()).toMatchObject({ seq: 1 })
    expect((await inbox.next(`strategy/${strategy}/AAPL`)).json()).toMatchObject({ seq: 2, description: 'next' })
  })

  test('publishes beyond MQTT_PUBLISH_RATE are dropped with a notice', async () => {
    const limited = await startTestHub({ MQTT_PUBLISH_RATE: '2' })
    try {
      const user = await limited.user('chatty', 'admin')
      const client = await clients.connect(limited.mqttUrl, { password: user.key })
      const notices = new Inbox(client)
      await subscribe(client, [`users/${user.id}/notices`])
      for (let i = 0; i < 4; i++) await publish(client, `users/${user.id}/reports`, 'x', { qos: 1 })
      expect((await notices.next(`users/${user.id}/notices`)).json()).toMatchObject({ type: 'publish_rejected', code: 'rate_limited' })
      expect(client.connected).toBe(true)
    } finally {
      await clients.endAll()
      await limited.shutdown()
    }
  })
})
