import { startBridge, type TestBridge } from '../../helpers/bridge'
import type { TestUser } from '../../helpers/fixtures'

let bridge: TestBridge
let publisher: TestUser
let subscriber: TestUser

const valid = { strategy_id: 's1', symbol: 'BTC', type: 'buy', execute_date: '2026-01-01T09:30:00+08:00' }
const item = (patch: Record<string, unknown>): Record<string, unknown> => ({ ...valid, ...patch })
const without = (field: string): Record<string, unknown> => Object.fromEntries(Object.entries(valid).filter(([k]) => k !== field))

interface Case {
  name: string
  method?: 'POST' | 'GET'
  path?: string
  /** A JSON value, or raw text when `raw` is set. */
  body?: unknown
  raw?: string | Blob
  contentType?: string | null
  headers?: Record<string, string>
  as?: 'subscriber'
  status: number
  code: string
  issuePath?: string
}

const post = (name: string, body: unknown, status: number, code: string, issuePath?: string): Case => ({ name, body, status, code, issuePath })
const history = (name: string, query: string, status = 422, code = 'validation_failed', as?: 'subscriber'): Case => ({ name, method: 'GET', path: `/api/v1/signals?${query}`, status, code, as })

const CASES: Case[] = [
  post('missing type', without('type'), 422, 'validation_failed', 'type'),
  post('missing strategy_id', without('strategy_id'), 422, 'validation_failed', 'strategy_id'),
  post('missing symbol', without('symbol'), 422, 'validation_failed', 'symbol'),
  post('missing execute_date', without('execute_date'), 422, 'validation_failed', 'execute_date'),
  post('type outside the configured set', item({ type: 'moon' }), 422, 'validation_failed', 'type'),
  post('type is a number', item({ type: 1 }), 422, 'validation_failed', 'type'),
  post('type in upper case', item({ type: 'BUY' }), 422, 'validation_failed', 'type'),
  post('strategy_id is a number', item({ strategy_id: 7 }), 422, 'validation_failed', 'strategy_id'),
  post('strategy_id with a slash', item({ strategy_id: 's1/x' }), 422, 'validation_failed', 'strategy_id'),
  post('strategy_id of 65 characters', item({ strategy_id: 'a'.repeat(65) }), 422, 'validation_failed', 'strategy_id'),
  post('symbol is a number', item({ symbol: 42 }), 422, 'validation_failed', 'symbol'),
  post('symbol with /', item({ symbol: 'BTC/USD' }), 422, 'validation_failed', 'symbol'),
  post('symbol with +', item({ symbol: 'BTC+' }), 422, 'validation_failed', 'symbol'),
  post('symbol with #', item({ symbol: '#' }), 422, 'validation_failed', 'symbol'),
  post('symbol with a space', item({ symbol: 'BTC USD' }), 422, 'validation_failed', 'symbol'),
  post('symbol with a tab', item({ symbol: 'BTC\tUSD' }), 422, 'validation_failed', 'symbol'),
  post('symbol with a control character', item({ symbol: 'BTC\u0001' }), 422, 'validation_failed', 'symbol'),
  post('symbol with NUL', item({ symbol: 'BTC\u0000' }), 422, 'validation_failed', 'symbol'),
  post('empty symbol', item({ symbol: '' }), 422, 'validation_failed', 'symbol'),
  post('symbol of 33 characters', item({ symbol: 'X'.repeat(33) }), 422, 'validation_failed', 'symbol'),
  post('execute_date not a date', item({ execute_date: 'tomorrow' }), 422, 'validation_failed', 'execute_date'),
  post('execute_date 30 February', item({ execute_date: '2026-02-30' }), 422, 'validation_failed', 'execute_date'),
  post('execute_date month 13', item({ execute_date: '2026-13-01' }), 422, 'validation_failed', 'execute_date'),
  post('execute_date hour 25', item({ execute_date: '2026-01-01T25:00:00' }), 422, 'validation_failed', 'execute_date'),
  post('execute_date offset +25:00', item({ execute_date: '2026-01-01T09:00:00+25:00' }), 422, 'validation_failed', 'execute_date'),
  post('execute_date is a number', item({ execute_date: 1767225600000 }), 422, 'validation_failed', 'execute_date'),
  post('description of 2001 characters', item({ description: 'd'.repeat(2001) }), 422, 'validation_failed', 'description'),
  post('description is a number', item({ description: 5 }), 422, 'validation_failed', 'description'),
  post('description with NUL', item({ description: 'a\u0000b' }), 422, 'validation_failed', 'description'),
  post('payload over 16 KB', item({ payload: { blob: 'p'.repeat(16 * 1024) } }), 422, 'validation_failed', 'payload'),
  post('payload is a string', item({ payload: 'text' }), 422, 'validation_failed', 'payload'),
  post('payload is a number', item({ payload: 3 }), 422, 'validation_failed', 'payload'),
  post('unknown field', item({ price: 10 }), 422, 'validation_failed'),
  post('server-set field id', item({ id: 99 }), 422, 'validation_failed'),
  post('body is an array', [valid], 422, 'validation_failed'),
  post('empty batch', { signals: [] }, 422, 'validation_failed', 'signals'),
  post('batch of 1001', { signals: Array.from({ length: 1001 }, () => valid) }, 422, 'validation_failed', 'signals'),
  post('batch is not an array', { signals: valid }, 422, 'validation_failed', 'signals'),
  post('batch with an extra field', { signals: [valid], note: 'x' }, 422, 'validation_failed'),
  post('batch with one bad item', { signals: [valid, item({ type: 'moon' })] }, 422, 'validation_failed', 'signals.1.type'),
  post('unknown strategy', item({ strategy_id: 'nope' }), 422, 'validation_failed', 'strategy_id'),
  post('another owner\'s strategy', item({ strategy_id: 's2' }), 403, 'forbidden'),
  { name: 'subscriber publishing', body: valid, as: 'subscriber', status: 403, code: 'forbidden' },
  { name: 'no body', contentType: 'application/json', status: 422, code: 'validation_failed' },
  { name: 'text/plain body', raw: JSON.stringify(valid), contentType: 'text/plain', status: 415, code: 'unsupported_media_type' },
  { name: 'form body', raw: 'type=buy', contentType: 'application/x-www-form-urlencoded', status: 415, code: 'unsupported_media_type' },
  { name: 'body without a content type', raw: new Blob([JSON.stringify(valid)]), contentType: null, status: 415, code: 'unsupported_media_type' },
  { name: 'malformed JSON', raw: '{"type": "buy",', status: 400, code: 'malformed_json' },
  { name: 'JSON null', raw: 'null', status: 400, code: 'malformed_json' },
  { name: 'body over 2 MB', raw: JSON.stringify({ signals: [item({ description: 'x'.repeat(3 * 1024 * 1024) })] }), status: 413, code: 'payload_too_large' },
  { name: 'Idempotency-Key of 129 characters', body: valid, headers: { 'idempotency-key': 'k'.repeat(129) }, status: 422, code: 'validation_failed', issuePath: 'idempotency-key' },
  { name: 'Idempotency-Key with a space', body: valid, headers: { 'idempotency-key': 'a b' }, status: 422, code: 'validation_failed', issuePath: 'idempotency-key' },
  history('history limit 0', 'limit=0'),
  history('history limit 501', 'limit=501'),
  history('history limit not a number', 'limit=ten'),
  history('history negative after_seq', 'after_seq=-1'),
  history('history bad from', 'from=yesterday'),
  history('history from after to', 'from=2026-02-01&to=2026-01-01'),
  history('history cursor not ours', 'cursor=bm9wZQ'),
  history('history unknown parameter', 'strategy=s1'),
  history('history strategy_id with a slash', 'strategy_id=a/b'),
  history('history symbol with a space', 'symbol=a%20b'),
  history('history repeated symbol', 'symbol=A&symbol=B'),
  history('history of an unknown strategy', 'strategy_id=nope', 404, 'not_found'),
  history('history of a strategy not subscribed', 'strategy_id=s2', 403, 'forbidden', 'subscriber'),
  { name: 'stream with a bad Last-Event-ID', method: 'GET', path: '/api/v1/signals/stream', headers: { 'last-event-id': 'garbage' }, status: 422, code: 'validation_failed' },
  { name: 'stats range over 366 days', method: 'GET', path: '/api/v1/stats?from=2024-01-01&to=2026-01-01', status: 422, code: 'validation_failed' },
  { name: 'stats bad to', method: 'GET', path: '/api/v1/stats?to=2026-99-01', status: 422, code: 'validation_failed' }
]

beforeAll(async () => {
  bridge = await startBridge()
  publisher = await bridge.user('pub', 'publisher')
  subscriber = await bridge.user('sub', 'subscriber')
  const other = await bridge.user('other', 'publisher')
  await bridge.strategy('s1', publisher)
  await bridge.strategy('s2', other)
})
afterAll(async () => { await bridge.shutdown() })

test('the table holds at least 40 invalid requests', () => {
  expect(CASES.length).toBeGreaterThanOrEqual(40)
})

test.each(CASES.map((c) => [c.name, c] as const))('%s → refused, nothing stored', async (_name, c) => {
  const headers: Record<string, string> = { authorization: `Bearer ${c.as === 'subscriber' ? subscriber.key : publisher.key}`, ...c.headers }
  let body: string | Blob | undefined
  if (c.raw !== undefined) body = c.raw
  else if (c.body !== undefined) body = JSON.stringify(c.body)
  const contentType = c.contentType === undefined ? 'application/json' : c.contentType
  if (contentType !== null) headers['content-type'] = contentType
  const before = await bridge.database().models.Signal.count()
  const published = bridge.published.length
  const res = await fetch(`${bridge.baseUrl}${c.path ?? '/api/v1/signals'}`, { method: c.method ?? 'POST', headers, body })
  const problem = await res.json() as { code: string, status: number, issues?: Array<{ path: string }>, request_id: string }
  expect({ status: res.status, code: problem.code }).toEqual({ status: c.status, code: c.code })
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/)
  expect(problem.status).toBe(c.status)
  expect(problem.request_id).toBe(res.headers.get('x-request-id'))
  if (c.issuePath !== undefined) expect(problem.issues?.map((i) => i.path)).toContain(c.issuePath)
  expect(await bridge.database().models.Signal.count()).toBe(before)
  expect(bridge.published.length).toBe(published)
})
