import { startBridge, type TestBridge } from '../../helpers/bridge'
import { call } from '../../helpers/http'

let bridge: TestBridge
afterAll(async () => { await bridge.shutdown() })

test('an Idempotency-Key holds across a restart on the same database', async () => {
  bridge = await startBridge()
  const publisher = await bridge.user('pub', 'publisher')
  await bridge.strategy('s1', publisher)
  const body = { signals: [{ strategy_id: 's1', symbol: 'ETH', type: 'sell', execute_date: '2026-03-01' }] }
  const headers = { 'idempotency-key': 'restart-1' }
  const first = await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body, headers })
  expect(first.status).toBe(201)

  const scratch = bridge.scratch
  await bridge.shutdown({ keepDatabase: true })
  bridge = await startBridge({}, scratch)

  const again = await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body, headers })
  expect(again.status).toBe(201)
  expect(again.headers.get('idempotent-replayed')).toBe('true')
  expect(again.body).toEqual(first.body)
  expect(bridge.published).toHaveLength(0)
  expect(await bridge.database().models.Signal.count()).toBe(1)
  const conflict = await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: { signals: [{ ...body.signals[0], type: 'buy' }] }, headers })
  expect(conflict.status).toBe(409)
})
