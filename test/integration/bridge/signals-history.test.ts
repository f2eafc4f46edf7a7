import { startBridge, type TestBridge } from '../../helpers/bridge'
import type { TestUser } from '../../helpers/fixtures'
import { call } from '../../helpers/http'

let bridge: TestBridge
let admin: TestUser
let publisher: TestUser
let full: TestUser
let limited: TestUser
let outsider: TestUser

interface View { id: number, seq: number, strategy_id: string, symbol: string, type: string }

const SYMBOLS = ['AAA', 'BBB', 'CCC']

async function pageAll(key: string, query: string, limit: number): Promise<View[]> {
  const out: View[] = []
  let cursor: string | null = null
  for (let i = 0; i < 100; i++) {
    const r = await call(bridge, 'GET', `/api/v1/signals?limit=${limit}${query}${cursor === null ? '' : `&cursor=${cursor}`}`, { key })
    expect(r.status).toBe(200)
    out.push(...r.body.data)
    cursor = r.body.next_cursor
    if (cursor === null) return out
  }
  throw new Error('too many pages')
}

beforeAll(async () => {
  bridge = await startBridge()
  admin = await bridge.user('root', 'admin')
  publisher = await bridge.user('pub', 'publisher')
  full = await bridge.user('full', 'subscriber')
  limited = await bridge.user('limited', 'subscriber')
  outsider = await bridge.user('outsider', 'subscriber')
  await bridge.strategy('alpha', publisher)
  await bridge.strategy('beta', publisher, 'private')
  await bridge.subscribe(full, 'alpha')
  await bridge.subscribe(limited, 'beta', ['AAA'])
  for (const strategy of ['alpha', 'beta']) {
    const signals = Array.from({ length: 125 }, (_, i) => ({
      strategy_id: strategy, symbol: SYMBOLS[i % 3], type: i % 2 === 0 ? 'buy' : 'sell', execute_date: '2026-05-01'
    }))
    const r = await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: { signals } })
    expect(r.status).toBe(201)
  }
})
afterAll(async () => { await bridge.shutdown() })

test('250 signals page without duplicates or gaps, in (strategy_id, seq) order', async () => {
  const all = await pageAll(admin.key, '', 37)
  expect(new Set(all.map((s) => s.id)).size).toBe(all.length)
  const keys = all.map((s) => `${s.strategy_id}:${String(s.seq).padStart(5, '0')}`)
  expect(keys).toEqual([...keys].sort())
  for (const strategy of ['alpha', 'beta']) {
    expect(all.filter((s) => s.strategy_id === strategy).map((s) => s.seq)).toEqual(Array.from({ length: 125 }, (_, i) => i + 1))
  }
})

test('the last page has next_cursor null; a full page of exactly the rest too', async () => {
  const r = await call(bridge, 'GET', '/api/v1/signals?strategy_id=alpha&limit=125', { key: admin.key })
  expect(r.body.data).toHaveLength(125)
  expect(r.body.next_cursor).toBeNull()
})

test('signals stored between pages appear once, at the end', async () => {
  await bridge.strategy('gamma', publisher)
  const post = (symbol: string) => call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: { strategy_id: 'gamma', symbol, type: 'hold', execute_date: '2026-05-02' } })
  for (const symbol of ['AAA', 'BBB', 'CCC']) expect((await post(symbol)).status).toBe(201)
  const first = await call(bridge, 'GET', '/api/v1/signals?strategy_id=gamma&limit=2', { key: admin.key })
  await post('DDD')
  const rest = await call(bridge, 'GET', `/api/v1/signals?strategy_id=gamma&limit=2&cursor=${first.body.next_cursor}`, { key: admin.key })
  const seqs = [...first.body.data, ...rest.body.data].map((s: View) => s.seq)
  expect(seqs).toEqual([1, 2, 3, 4])
  expect(rest.body.next_cursor).toBeNull()
})

test('a subscriber sees only its subscribed strategy', async () => {
  const seen = await pageAll(full.key, '', 500)
  expect(new Set(seen.map((s) => s.strategy_id))).toEqual(new Set(['alpha']))
})

test('a symbol-limited subscription sees only those symbols', async () => {
  const seen = await pageAll(limited.key, '', 500)
  expect(seen.length).toBeGreaterThan(0)
  expect(new Set(seen.map((s) => `${s.strategy_id}/${s.symbol}`))).toEqual(new Set(['beta/AAA']))
  expect((await call(bridge, 'GET', '/api/v1/signals?strategy_id=beta', { key: limited.key })).body.data.length).toBe(seen.length)
  const other = await call(bridge, 'GET', '/api/v1/signals?strategy_id=beta&symbol=BBB', { key: limited.key })
  expect(other.status).toBe(403)
})

test('a user without subscriptions sees nothing, and is refused a named strategy', async () => {
  const r = await call(bridge, 'GET', '/api/v1/signals', { key: outsider.key })
  expect(r.body).toEqual({ data: [], next_cursor: null })
  expect((await call(bridge, 'GET', '/api/v1/signals?strategy_id=alpha', { key: outsider.key })).status).toBe(403)
})

test('filters: symbol, type, after_seq, from/to', async () => {
  const bySymbol = await pageAll(admin.key, '&strategy_id=alpha&symbol=BBB', 500)
  expect(bySymbol.every((s) => s.symbol === 'BBB')).toBe(true)
  const byType = await pageAll(admin.key, '&strategy_id=beta&type=sell', 500)
  expect(byType).toHaveLength(62)
  const after = await pageAll(admin.key, '&strategy_id=beta&after_seq=120', 500)
  expect(after.map((s) => s.seq)).toEqual([121, 122, 123, 124, 125])
  expect(await pageAll(admin.key, '&from=2100-01-01', 500)).toHaveLength(0)
  expect(await pageAll(admin.key, '&to=2000-01-01T00:00:00Z', 500)).toHaveLength(0)
  expect((await pageAll(admin.key, '&strategy_id=beta&from=2000-01-01&to=2100-01-01', 500))).toHaveLength(125)
})

describe('GET /api/v1/stats', () => {
  test('counts by day, symbol and type over readable signals', async () => {
    const r = await call(bridge, 'GET', '/api/v1/stats?strategy_id=beta', { key: admin.key })
    expect(r.status).toBe(200)
    expect(r.body.total).toBe(125)
    expect(r.body.by_day).toHaveLength(7)
    expect(r.body.by_day.reduce((n: number, d: { count: number }) => n + d.count, 0)).toBe(125)
    expect(r.body.by_symbol).toEqual([{ symbol: 'AAA', count: 42 }, { symbol: 'BBB', count: 42 }, { symbol: 'CCC', count: 41 }])
    expect(r.body.by_type).toEqual([{ type: 'buy', count: 63 }, { type: 'sell', count: 62 }])
    expect(r.body.time_zone).toBe('Asia/Shanghai')
  })

  test('a symbol-limited subscriber counts only its symbols', async () => {
    const r = await call(bridge, 'GET', '/api/v1/stats', { key: limited.key })
    expect(r.body.total).toBe(42)
    expect(r.body.by_symbol).toEqual([{ symbol: 'AAA', count: 42 }])
  })

  test('days are calendar days in TZ_DEFAULT', async () => {
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date())
    const r = await call(bridge, 'GET', '/api/v1/stats?from=2026-01-01&to=2026-01-03', { key: admin.key })
    expect(r.body.by_day.map((d: { day: string }) => d.day)).toEqual(['2026-01-01', '2026-01-02'])
    expect(r.body.from).toBe('2025-12-31T16:00:00.000Z')
    // every signal here was stored today
    const now = await call(bridge, 'GET', '/api/v1/stats', { key: admin.key })
    expect(now.body.total).toBeGreaterThanOrEqual(250)
    expect(now.body.by_day[now.body.by_day.length - 1]).toEqual({ day: today, count: now.body.total })
  })
})
