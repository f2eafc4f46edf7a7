import { startBridge, type TestBridge } from '../../helpers/bridge'
import type { TestUser } from '../../helpers/fixtures'
import { call } from '../../helpers/http'

let bridge: TestBridge
let publisher: TestUser
let other: TestUser
let subscriber: TestUser

const valid = { strategy_id: 's1', symbol: 'BTC', type: 'buy', execute_date: '2026-01-01T09:30:00' }
const signals = (n: number, extra: Record<string, unknown> = {}): unknown[] => Array.from({ length: n }, (_, i) => ({ ...valid, symbol: `S${i}`, ...extra }))

beforeAll(async () => {
  bridge = await startBridge()
  publisher = await bridge.user('pub', 'publisher')
  other = await bridge.user('other', 'publisher')
  subscriber = await bridge.user('sub', 'subscriber')
  await bridge.strategy('s1', publisher)
  await bridge.strategy('s2', other)
})
afterAll(async () => { await bridge.shutdown() })

describe('POST /api/v1/signals', () => {
  test('one signal → 201 with id and seq, stored in UTC and published retained as canonical JSON', async () => {
    const r = await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: { ...valid, description: 'go long', payload: { price: 1.5 } } })
    expect(r.status).toBe(201)
    expect(r.body).toMatchObject({ strategy_id: 's1', symbol: 'BTC', type: 'buy', execute_date: '2026-01-01T01:30:00.000Z', description: 'go long', payload: { price: 1.5 }, publisher: publisher.id })
    expect(r.body.seq).toBeGreaterThan(0)
    const last = bridge.published[bridge.published.length - 1]
    expect(last.topic).toBe('strategy/s1/BTC')
    expect(last.retain).toBe(true)
    expect(JSON.parse(last.payload)).toEqual(r.body)
  })

  test('a batch → 201 with {"signals":[…]}, consecutive seqs in request order', async () => {
    const r = await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: { signals: signals(3) } })
    expect(r.status).toBe(201)
    const seqs = (r.body.signals as Array<{ seq: number, symbol: string }>).map((s) => s.seq)
    expect(seqs).toEqual([seqs[0], seqs[0] + 1, seqs[0] + 2])
    expect(r.body.signals.map((s: { symbol: string }) => s.symbol)).toEqual(['S0', 'S1', 'S2'])
  })

  test('an admin may publish to any strategy', async () => {
    const admin = await bridge.user('root', 'admin')
    const r = await call(bridge, 'POST', '/api/v1/signals', { key: admin.key, body: { ...valid, strategy_id: 's2' } })
    expect(r.status).toBe(201)
  })
})

describe('batch all or nothing', () => {
  test('one bad item → 422 naming its path; nothing stored or published', async () => {
    const before = await bridge.database().models.Signal.count()
    const sent = bridge.published.length
    const batch = signals(5)
    batch[3] = { ...valid, symbol: 'BAD/SYMBOL' }
    const r = await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: { signals: batch } })
    expect(r.status).toBe(422)
    expect(r.body.code).toBe('validation_failed')
    expect(r.body.issues).toEqual([expect.objectContaining({ path: 'signals.3.symbol' })])
    expect(await bridge.database().models.Signal.count()).toBe(before)
    expect(bridge.published.length).toBe(sent)
  })

  test('one item on another owner\'s strategy → 403; nothing stored', async () => {
    const before = await bridge.database().models.Signal.count()
    const r = await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: { signals: [valid, { ...valid, strategy_id: 's2' }] } })
    expect(r.status).toBe(403)
    expect(await bridge.database().models.Signal.count()).toBe(before)
  })

  test('1000 items are accepted in one transaction', async () => {
    const r = await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: { signals: signals(1000) } })
    expect(r.status).toBe(201)
    expect(r.body.signals).toHaveLength(1000)
  })
})

describe('idempotency', () => {
  test('a repeated Idempotency-Key returns the first result, marked replayed, and publishes nothing', async () => {
    const headers = { 'idempotency-key': 'order-42' }
    const first = await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: valid, headers })
    const sent = bridge.published.length
    const before = await bridge.database().models.Signal.count()
    const again = await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: valid, headers })
    expect(first.status).toBe(201)
    expect(again.status).toBe(201)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(first.headers.get('idempotent-replayed')).toBeNull()
    expect(again.body).toEqual(first.body)
    expect(bridge.published.length).toBe(sent)
    expect(await bridge.database().models.Signal.count()).toBe(before)
  })

  test('the same key with a different body → 409 idempotency_conflict', async () => {
    const headers = { 'idempotency-key': 'order-43' }
    await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: valid, headers })
    const r = await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: { ...valid, type: 'sell' }, headers })
    expect(r.status).toBe(409)
    expect(r.body.code).toBe('idempotency_conflict')
  })

  test('a batch replays whole, with the same ids and seqs', async () => {
    const headers = { 'idempotency-key': 'batch-1' }
    const first = await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: { signals: signals(4) }, headers })
    const again = await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: { signals: signals(4) }, headers })
    expect(again.body).toEqual(first.body)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
  })

  test('keys are per user: another user\'s same key is a new request', async () => {
    const headers = { 'idempotency-key': 'shared-key' }
    const a = await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: valid, headers })
    const b = await call(bridge, 'POST', '/api/v1/signals', { key: other.key, body: { ...valid, strategy_id: 's2' }, headers })
    expect(a.status).toBe(201)
    expect(b.status).toBe(201)
    expect(b.headers.get('idempotent-replayed')).toBeNull()
  })

  test('concurrent requests with one key store once', async () => {
    const headers = { 'idempotency-key': 'race-1' }
    const results = await Promise.all(Array.from({ length: 5 }, () => call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: valid, headers })))
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201])
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1)
  })
})

test('a subscriber cannot publish', async () => {
  const r = await call(bridge, 'POST', '/api/v1/signals', { key: subscriber.key, body: valid })
  expect(r.status).toBe(403)
  expect(r.body.code).toBe('forbidden')
})
