import mqtt from 'mqtt'
import { startTestHub, type TestHub } from '../../helpers/hub'

let hub: TestHub
beforeAll(async () => { hub = await startTestHub() })
afterAll(async () => { await hub.shutdown() })

test('REST POST → an entitled MQTT subscriber receives the canonical signal with its seq; an unentitled one nothing', async () => {
  const publisher = await hub.user('pub', 'publisher')
  const reader = await hub.user('reader', 'subscriber')
  const outsider = await hub.user('outsider', 'subscriber')
  await hub.strategy('e2e', publisher)
  await hub.subscribe(reader, 'e2e')

  const entitled = await mqtt.connectAsync(hub.mqttUrl, { username: 'reader', password: reader.key, clientId: 'reader-1', protocolVersion: 4 })
  const unentitled = await mqtt.connectAsync(hub.mqttUrl, { username: 'outsider', password: outsider.key, clientId: 'outsider-1', protocolVersion: 4 })
  try {
    const granted = await entitled.subscribeAsync('strategy/e2e/BTC', { qos: 1 })
    expect(granted[0].qos).toBe(1)
    await expect(unentitled.subscribeAsync('strategy/e2e/BTC', { qos: 1 })).rejects.toThrow(/Subscribe error/)
    const seen: string[] = []
    unentitled.on('message', (_topic, payload) => seen.push(payload.toString()))
    const received = new Promise<{ topic: string, payload: string }>((resolve) => {
      entitled.on('message', (topic, payload) => resolve({ topic, payload: payload.toString() }))
    })

    const res = await fetch(`${hub.baseUrl}/api/v1/signals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${publisher.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ strategy_id: 'e2e', symbol: 'BTC', type: 'buy', execute_date: '2026-07-01T09:30:00+08:00' })
    })
    expect(res.status).toBe(201)
    const stored = await res.json() as { seq: number }
    const message = await received
    expect(message.topic).toBe('strategy/e2e/BTC')
    expect(JSON.parse(message.payload)).toEqual(stored)
    expect(Object.keys(JSON.parse(message.payload))).toEqual(['id', 'seq', 'strategy_id', 'symbol', 'type', 'execute_date', 'description', 'payload', 'publisher', 'created_at'])
    await new Promise((r) => setTimeout(r, 200))
    expect(seen).toHaveLength(0)
    const metrics = await (await fetch(`${hub.baseUrl}/metrics`)).text()
    expect(metrics).toMatch(/^signalhub_mqtt_deliveries_total [1-9]\d*$/m)
  } finally {
    await Promise.all([entitled.endAsync(), unentitled.endAsync()])
  }
})
