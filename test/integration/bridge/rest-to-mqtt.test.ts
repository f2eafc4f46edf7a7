import { uniqueId } from '../../helpers/fixtures'
import { call } from '../../helpers/http'
import { startTestHub, type TestHub } from '../../helpers/hub'
import { Inbox, subscribe, TestClients } from '../../helpers/mqtt-clients'

let hub: TestHub
const clients = new TestClients()
beforeAll(async () => { hub = await startTestHub() })
afterEach(() => clients.endAll())
afterAll(async () => { await hub.shutdown() })

test('REST POST → an entitled MQTT subscriber receives the canonical signal with its seq; an unentitled one nothing', async () => {
  const publisher = await hub.user('pub', 'publisher')
  const reader = await hub.user('reader', 'subscriber')
  const outsider = await hub.user('outsider', 'subscriber')
  const strategy = uniqueId('e2e')
  const open = uniqueId('open')
  await hub.strategy(strategy, publisher)
  await hub.strategy(open, publisher)
  await hub.subscribe(reader, strategy)
  await hub.subscribe(outsider, open)

  const entitled = await clients.connect(hub.mqttUrl, { username: 'reader', password: reader.key })
  const unentitled = await clients.connect(hub.mqttUrl, { username: 'outsider', password: outsider.key })
  const received = new Inbox(entitled)
  const seen = new Inbox(unentitled)
  expect(await subscribe(entitled, [`strategy/${strategy}/BTC`])).toEqual([1])
  expect(await subscribe(unentitled, [`strategy/${strategy}/BTC`, `strategy/${open}/BTC`])).toEqual([128, 1])

  const res = await call(hub, 'POST', '/api/v1/signals', { key: publisher.key, body: { strategy_id: strategy, symbol: 'BTC', type: 'buy', execute_date: '2026-07-01T09:30:00+08:00' } })
  expect(res.status).toBe(201)
  const message = await received.next(`strategy/${strategy}/BTC`)
  expect(message.json()).toEqual(res.body)
  expect(Object.keys(message.json())).toEqual(['id', 'seq', 'strategy_id', 'symbol', 'type', 'execute_date', 'description', 'payload', 'publisher', 'created_at'])

  // a later signal the outsider may read: the first one would have reached it before this one
  expect((await call(hub, 'POST', '/api/v1/signals', { key: publisher.key, body: { strategy_id: open, symbol: 'BTC', type: 'sell', execute_date: '2026-07-01T09:31:00+08:00' } })).status).toBe(201)
  await seen.next(`strategy/${open}/BTC`)
  expect(seen.messages).toEqual([])

  const metrics = await (await fetch(`${hub.baseUrl}/metrics`)).text()
  expect(metrics).toMatch(/^signalhub_mqtt_deliveries_total [1-9]\d*$/m)
})
