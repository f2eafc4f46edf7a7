import { connect as connectTcp } from 'node:net'
import mqtt from 'mqtt'
import type { FindOptions } from 'sequelize'
import type { Signal } from '../../models/signal.model'
import { uniqueId } from '../helpers/fixtures'
import { startTestHub, type TestHub, type TestUser } from '../helpers/hub'
import { waitFor } from '../helpers/wait'
import { problemCode, rawHttp } from './hostile-helpers'

/**
 * Hostile input on the REST door: every request below is refused with a problem code,
 * or (marked `inert`) stored byte for byte and returned as JSON without being executed
 * or breaking the query. Afterwards the process still answers, a valid MQTT login still
 * works, and the only signals stored are the inert ones.
 */

let hub: TestHub
let publisher: TestUser
let admin: TestUser
let port: number

/** Signals posted here reach every node on the same Redis: a strategy no other test uses. */
const STRATEGY = uniqueId('sec')
const valid = { strategy_id: STRATEGY, symbol: 'BTC', type: 'buy', execute_date: '2026-01-01T09:30:00+08:00', description: 'ok' }
const signal = (patch: Record<string, unknown>): Record<string, unknown> => ({ ...valid, ...patch })

interface Case {
  name: string
  method?: string
  path?: string
  /** JSON value (serialised), raw text or bytes. */
  body?: unknown
  rawBody?: string | Buffer
  headers?: Record<string, string>
  /** The whole request as bytes, sent on a bare socket (for what fetch refuses to send). */
  raw?: () => string | Buffer
  /** Send as the admin instead of the publisher; `none` sends no key. */
  as?: 'admin' | 'none'
  /** Expected status (any of several when the outcome legitimately varies, e.g. 200 with an empty list or 422). */
  status: number | number[]
  code?: string
  /** Accepted and stored verbatim: the stored field must equal what was sent. */
  inert?: { field: 'symbol' | 'description' | 'payload', value: unknown }
}

const SQL = ["' OR '1'='1", "1; DROP TABLE signals; --", "' UNION SELECT hash FROM api_keys --", "\\'; DELETE FROM users WHERE 1=1; #", 'sec1")); SELECT SLEEP(5); --']
const SCRIPT = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "javascript:alert('x')", '{{constructor.constructor("return process")()}}', '${process.exit(1)}']
const FRAGMENTS = [...SQL, ...SCRIPT]

const post = (name: string, body: unknown, status: number, code?: string, extra: Partial<Case> = {}): Case => ({ name, method: 'POST', path: '/api/v1/signals', body, status, code, ...extra })
const get = (name: string, path: string, status: number | number[], code?: string, extra: Partial<Case> = {}): Case => ({ name, method: 'GET', path, status, code, ...extra })

function nested(depth: number, open: string, close: string, leaf = '1'): string {
  return open.repeat(depth) + leaf + close.repeat(depth)
}

/** A raw HTTP/1.1 request with Connection: close. */
function request(lines: string[], body: Buffer | string = ''): () => Buffer {
  return () => Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\nConnection: close\r\n\r\n`, 'latin1'), Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1')])
}

const keyOf = (c: Case): string | undefined => c.as === 'none' ? undefined : c.as === 'admin' ? admin.key : publisher.key

const CASES: Case[] = [
  // bodies: size, depth, encoding, types
  post('a 3 MB body', { ...valid, description: 'x'.repeat(3 * 1024 * 1024) }, 413, 'payload_too_large'),
  post('a 10,000-level nested array as the body', undefined, 422, 'validation_failed', { rawBody: nested(10000, '[', ']') }),
  post('a 10,000-level nested object in payload', undefined, 422, 'validation_failed', { rawBody: JSON.stringify(valid).replace(/}$/, `,"payload":${nested(10000, '{"a":', '}')}}`) }),
  post('a 10,000-level nested array in payload', undefined, 422, 'validation_failed', { rawBody: JSON.stringify(valid).replace(/}$/, `,"payload":${nested(10000, '[', ']')}}`) }),
  post('a 100,000-level nested array as the body', undefined, 422, 'validation_failed', { rawBody: nested(100000, '[', ']') }),
  post('a batch of 100,000-level nested arrays', undefined, 422, 'validation_failed', { rawBody: `{"signals":[${nested(100000, '[', ']')}]}` }),
  post('invalid UTF-8 in strategy_id', undefined, 400, 'malformed_json', { rawBody: Buffer.concat([Buffer.from('{"strategy_id":"sec'), Buffer.from([0xff, 0xfe]), Buffer.from('","symbol":"BTC","type":"buy","execute_date":"2026-01-01"}')]) }),
  post('invalid UTF-8 in type', undefined, 400, 'malformed_json', { rawBody: Buffer.concat([Buffer.from('{"strategy_id":"sec1","symbol":"BTC","type":"bu'), Buffer.from([0xc3, 0x28]), Buffer.from('","execute_date":"2026-01-01"}')]) }),
  post('invalid UTF-8 (overlong NUL) in symbol', undefined, 400, 'malformed_json', { rawBody: Buffer.concat([Buffer.from('{"strategy_id":"sec1","symbol":"B'), Buffer.from([0xc0, 0x80]), Buffer.from('","type":"buy","execute_date":"2026-01-01"}')]) }),
  post('a UTF-16 body declared as UTF-8', undefined, 400, 'malformed_json', { rawBody: Buffer.from(JSON.stringify(valid), 'utf16le') }),
  post('a lone surrogate escape in symbol', undefined, 422, 'validation_failed', { rawBody: JSON.stringify(valid).replace('"BTC"', '"\\ud800"') }),
  post('a NUL byte in symbol', signal({ symbol: 'BTC\u0000' }), 422, 'validation_failed'),
  post('a NUL byte in description', signal({ description: 'a\u0000b' }), 422, 'validation_failed'),
  post('a NUL byte in strategy_id', signal({ strategy_id: 'sec1\u0000' }), 422, 'validation_failed'),
  post('a NUL byte in type', signal({ type: 'buy\u0000' }), 422, 'validation_failed'),
  post('a NUL byte in execute_date', signal({ execute_date: '2026-01-01\u0000' }), 422, 'validation_failed'),
  post('a raw NUL byte in the JSON text', undefined, 400, 'malformed_json', { rawBody: Buffer.from('{"strategy_id":"sec1",\u0000"symbol":"BTC"}') }),
  post('a body that is null', null, 400, 'malformed_json', { rawBody: 'null' }),
  post('a body that is a number', undefined, 400, 'malformed_json', { rawBody: '42' }),
  post('a body that is a string', undefined, 400, 'malformed_json', { rawBody: '"buy"' }),
  post('a body that is true', undefined, 400, 'malformed_json', { rawBody: 'true' }),
  post('a body that is an empty array', [], 422, 'validation_failed'),
  post('truncated JSON', undefined, 400, 'malformed_json', { rawBody: '{"strategy_id":"sec1","symbol":' }),
  post('JSON with a trailing comma', undefined, 400, 'malformed_json', { rawBody: '{"strategy_id":"sec1",}' }),
  post('strategy_id as an object', signal({ strategy_id: { $ne: null } }), 422, 'validation_failed'),
  post('symbol as an array', signal({ symbol: ['BTC', 'ETH'] }), 422, 'validation_failed'),
  post('type as null', signal({ type: null }), 422, 'validation_failed'),
  post('execute_date as an object', signal({ execute_date: { $gt: '' } }), 422, 'validation_failed'),
  post('payload as a number', signal({ payload: 7 }), 422, 'validation_failed'),
  post('description as an array', signal({ description: ['a'] }), 422, 'validation_failed'),
  post('signals is an object', { signals: { 0: valid } }, 422, 'validation_failed'),
  post('a batch item that is a string', { signals: ['buy'] }, 422, 'validation_failed'),
  post('a batch of 1001', { signals: Array.from({ length: 1001 }, () => valid) }, 422, 'validation_failed'),
  post('__proto__ as an extra field', undefined, 422, 'validation_failed', { rawBody: JSON.stringify(valid).replace(/}$/, ',"__proto__":{"admin":true}}') }),
  post('server-set fields (id, seq, publisher)', signal({ id: 1, seq: 999, publisher: 'admin' }), 422, 'validation_failed'),
  post('a body sent as text/plain', undefined, 415, 'unsupported_media_type', { rawBody: JSON.stringify(valid), headers: { 'content-type': 'text/plain' } }),
  post('a body sent as form data', undefined, 415, 'unsupported_media_type', { rawBody: 'strategy_id=sec1&symbol=BTC', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
  post('a body with charset utf-7 (decoded, then refused)', undefined, 422, 'validation_failed', { rawBody: JSON.stringify(valid), headers: { 'content-type': 'application/json; charset=utf-7' } }),
  post('a gzip body that is not gzip', undefined, 400, undefined, { rawBody: JSON.stringify(valid), headers: { 'content-encoding': 'gzip' } }),
  post('an unknown content encoding', undefined, 415, 'unsupported_media_type', { rawBody: JSON.stringify(valid), headers: { 'content-encoding': 'br2' } }),

  // SQL and script fragments in every string field: refused, or stored verbatim
  ...FRAGMENTS.map((f, i) => post(`fragment ${i} in strategy_id`, signal({ strategy_id: f }), 422, 'validation_failed')),
  ...FRAGMENTS.map((f, i) => post(`fragment ${i} in type`, signal({ type: f }), 422, 'validation_failed')),
  ...FRAGMENTS.map((f, i) => {
    const ok = /^[^/+#\s\p{Cc}]{1,32}$/u.test(f)
    return post(`fragment ${i} in symbol`, signal({ symbol: f }), ok ? 201 : 422, ok ? undefined : 'validation_failed', ok ? { inert: { field: 'symbol', value: f } } : {})
  }),
  ...FRAGMENTS.map((f, i) => post(`fragment ${i} in description`, signal({ description: f }), 201, undefined, { inert: { field: 'description', value: f } })),
  ...FRAGMENTS.map((f, i) => post(`fragment ${i} as a payload key and value`, signal({ payload: { [f]: f } }), 201, undefined, { inert: { field: 'payload', value: { [f]: f } } })),
  ...FRAGMENTS.map((f, i) => post(`fragment ${i} in execute_date`, signal({ execute_date: f }), 422, 'validation_failed')),
  ...FRAGMENTS.map((f, i) => {
    // printable ASCII without spaces is a valid key: then it is stored as an opaque string and the signal with it
    const ok = /^[\x21-\x7e]{1,128}$/.test(f)
    const description = `idempotency ${i}`
    return post(`fragment ${i} as the Idempotency-Key`, signal({ description }), ok ? 201 : 422, ok ? undefined : 'validation_failed', { headers: { 'idempotency-key': f }, ...(ok ? { inert: { field: 'description' as const, value: description } } : {}) })
  }),
  ...FRAGMENTS.map((f, i) => get(`fragment ${i} in ?strategy_id`, `/api/v1/signals?strategy_id=${encodeURIComponent(f)}`, 422, 'validation_failed')),
  ...SQL.map((f, i) => get(`SQL fragment ${i} in ?symbol`, `/api/v1/signals?strategy_id=${STRATEGY}&symbol=${encodeURIComponent(f)}`, 422, 'validation_failed')),
  ...SQL.map((f, i) => get(`SQL fragment ${i} in ?type (no match, or refused)`, `/api/v1/signals?strategy_id=${STRATEGY}&type=${encodeURIComponent(f)}`, [200, 422])),
  ...SQL.map((f, i) => get(`SQL fragment ${i} in ?cursor`, `/api/v1/signals?strategy_id=${STRATEGY}&cursor=${encodeURIComponent(f)}`, 422, 'validation_failed')),

  // query abuse
  get('?limit[]=5', `/api/v1/signals?strategy_id=${STRATEGY}&limit[]=5`, 422, 'validation_failed'),
  get('?limit given twice', `/api/v1/signals?strategy_id=${STRATEGY}&limit=5&limit=6`, 422, 'validation_failed'),
  get('?limit of 1e309', `/api/v1/signals?strategy_id=${STRATEGY}&limit=1e309`, 422, 'validation_failed'),
  get('?limit of 20 digits', `/api/v1/signals?strategy_id=${STRATEGY}&limit=99999999999999999999`, 422, 'validation_failed'),
  get('?limit negative', `/api/v1/signals?strategy_id=${STRATEGY}&limit=-1`, 422, 'validation_failed'),
  get('?limit 0x10', `/api/v1/signals?strategy_id=${STRATEGY}&limit=0x10`, 422, 'validation_failed'),
  get('?after_seq negative', `/api/v1/signals?strategy_id=${STRATEGY}&after_seq=-5`, 422, 'validation_failed'),
  get('?after_seq of 40 digits', `/api/v1/signals?strategy_id=${STRATEGY}&after_seq=${'9'.repeat(40)}`, 422, 'validation_failed'),
  get('?from not a date', `/api/v1/signals?strategy_id=${STRATEGY}&from=yesterday`, 422, 'validation_failed'),
  get('?strategy_id[]=x', `/api/v1/signals?strategy_id[]=${STRATEGY}`, 422, 'validation_failed'),
  get('?__proto__[admin]=1', `/api/v1/signals?strategy_id=${STRATEGY}&__proto__[admin]=1`, 422, 'validation_failed'),
  get('an 8 KB query string', `/api/v1/signals?strategy_id=${'a'.repeat(8000)}`, 422, 'validation_failed'),
  get('?limit with a NUL byte', `/api/v1/signals?strategy_id=${STRATEGY}&limit=5%00`, 422, 'validation_failed'),
  get('stats over a reversed range', `/api/v1/stats?strategy_id=${STRATEGY}&from=2026-02-01&to=2026-01-01`, 422, 'validation_failed'),

  // path traversal and odd ids
  get('strategy id ..%2F..%2Fetc%2Fpasswd', '/api/v1/strategies/..%2F..%2Fetc%2Fpasswd', 404, 'not_found'),
  get('strategy id %2e%2e', '/api/v1/strategies/%2e%2e', 404, 'route_not_found'),
  get('strategy id with a NUL', `/api/v1/strategies/${STRATEGY}%00`, 404, 'not_found'),
  get('strategy id of 5000 characters', `/api/v1/strategies/${'a'.repeat(5000)}`, 404, 'not_found'),
  get('user id 1;DROP', '/api/v1/users/1;DROP', 404, 'not_found', { as: 'admin' }),
  get('user id -1', '/api/v1/users/-1', 404, 'not_found', { as: 'admin' }),
  get('user id 1e3', '/api/v1/users/1e3', 404, 'not_found', { as: 'admin' }),
  get('user id of 30 digits', `/api/v1/users/${'9'.repeat(30)}`, 404, 'not_found', { as: 'admin' }),
  get("user id 1' OR '1'='1", `/api/v1/users/${encodeURIComponent("1' OR '1'='1")}`, 404, 'not_found', { as: 'admin' }),
  { name: 'key id abc on rotate', method: 'POST', path: '/api/v1/keys/abc/rotate', status: 404, code: 'not_found' },
  { name: 'subscription id %00', method: 'DELETE', path: '/api/v1/subscriptions/%00', status: 404, code: 'not_found' },
  { name: 'raw ../ in the path (not normalised: still behind authentication)', raw: request(['GET /api/v1/strategies/../../../etc/passwd HTTP/1.1', 'Host: x']), status: 401, code: 'unauthenticated' },
  { name: 'docs asset ..%2f..%2fpackage.json', method: 'GET', path: '/docs/..%2f..%2fpackage.json', as: 'none', status: 404 },
  { name: 'docs asset %2e%2e/%2e%2e/package.json', method: 'GET', path: '/docs/%2e%2e/%2e%2e/package.json', as: 'none', status: 404 },
  { name: 'a backslash traversal', method: 'GET', path: '/api/v1/strategies/..%5c..%5cwindows', status: 404, code: 'not_found' },

  // header abuse
  { name: 'a 20 KB header', method: 'GET', path: '/api/v1/signals', headers: { 'x-padding': 'p'.repeat(20000) }, status: 431 },
  { name: 'a 100 KB Authorization header', method: 'GET', path: '/api/v1/signals', as: 'none', headers: { authorization: `Bearer ${'k'.repeat(100000)}` }, status: 431 },
  { name: 'Authorization with a 300-character key', method: 'GET', path: '/api/v1/signals', as: 'none', headers: { authorization: `Bearer ${'k'.repeat(300)}` }, status: 401, code: 'unauthenticated' },
  { name: 'Authorization with two keys', method: 'GET', path: '/api/v1/signals', as: 'none', headers: { authorization: 'Bearer a, Bearer b' }, status: 401, code: 'unauthenticated' },
  { name: 'Authorization with SQL as the key', method: 'GET', path: '/api/v1/signals', as: 'none', headers: { authorization: "Bearer '_OR_1=1--" }, status: 401, code: 'unauthenticated' },
  { name: 'X-API-Key with SQL', method: 'GET', path: '/api/v1/signals', as: 'none', headers: { 'x-api-key': "x' OR 1=1 --" }, status: 401, code: 'unauthenticated' },
  { name: 'two Authorization headers, the first wrong', raw: () => request(['GET /api/v1/signals HTTP/1.1', 'Host: x', 'Authorization: Bearer wrong', `Authorization: Bearer ${publisher.key}`])(), status: 401, code: 'unauthenticated' },
  { name: 'Authorization with raw UTF-8 bytes', raw: () => Buffer.concat([Buffer.from('GET /api/v1/signals HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer '), Buffer.from('密钥😀'), Buffer.from('\r\nConnection: close\r\n\r\n')]), status: 401, code: 'unauthenticated' },
  { name: 'a NUL byte in a header', raw: () => request(['GET /healthz HTTP/1.1', 'Host: x', 'X-Test: a\u0000b'])(), status: 400 },
  { name: 'a bare CR in a header value', raw: () => request(['GET /healthz HTTP/1.1', 'Host: x', 'X-Test: a\rSet-Cookie: x=1'])(), status: 400 },
  { name: 'a bare LF header injection', raw: () => request(['GET /healthz HTTP/1.1', 'Host: x', 'X-Request-Id: a\nSet-Cookie: x=1'])(), status: 400 },
  { name: 'CRLF in the request line', raw: request(['GET /healthz%0d%0aSet-Cookie:x=1 HTTP/1.1', 'Host: x']), status: 404, code: 'route_not_found' },
  { name: 'Content-Length and Transfer-Encoding together', raw: request(['POST /api/v1/signals HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 4', 'Transfer-Encoding: chunked'], '0\r\n\r\n'), status: 400 },
  { name: 'two different Content-Length headers', raw: request(['POST /api/v1/signals HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 2', 'Content-Length: 3'], '{}'), status: 400 },
  { name: 'a negative Content-Length', raw: request(['POST /api/v1/signals HTTP/1.1', 'Host: x', 'Content-Length: -1']), status: 400 },
  { name: 'no Host header', raw: request(['GET /healthz HTTP/1.1']), status: 400 },
  { name: 'a garbage request line', raw: request(['\u0016\u0003\u0001 GARBAGE']), status: 400 },
  { name: 'an odd X-Request-Id is replaced', method: 'GET', path: '/api/v1/signals', as: 'none', headers: { 'x-request-id': '<script>alert(1)</script>' }, status: 401, code: 'unauthenticated' },
  { name: 'a garbage Accept-Language', method: 'GET', path: '/api/v1/signals', as: 'none', headers: { 'accept-language': `${'zz;q=abc,'.repeat(200)}` }, status: 401, code: 'unauthenticated' },
  { name: 'method TRACE', raw: request(['TRACE /api/v1/signals HTTP/1.1', 'Host: x']), status: 401, code: 'unauthenticated' },
  { name: 'method PROPFIND on a probe', raw: request(['PROPFIND /healthz HTTP/1.1', 'Host: x']), status: 404, code: 'route_not_found' }
]

beforeAll(async () => {
  hub = await startTestHub({ RATE_LIMIT_PER_SECOND: '10000', AUTH_FAIL_LIMIT: '100000', AUTH_LOCKOUT_PREFIX_LIMIT: '100000' })
  port = hub.ports.http
  publisher = await hub.user('sec-publisher', 'publisher')
  admin = await hub.user('sec-admin', 'admin')
  await hub.strategy(STRATEGY, publisher)
}, 60000)
afterAll(() => hub.shutdown())

/** The stored signals, read on the test's own connection. */
const signals = {
  count: () => hub.database().models.Signal.count(),
  findOne: (options: FindOptions<Signal>) => hub.database().models.Signal.findOne(options)
}

describe('REST hostile input', () => {
  test('the table holds at least 100 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(100)
  })

  const run = async (c: Case): Promise<void> => {
    const before = await signals.count()
    let status: number
    let body: string
    if (c.raw !== undefined) {
      const res = await rawHttp(port, c.raw())
      status = res.status
      body = res.body
    } else {
      const headers: Record<string, string> = { ...c.headers }
      const key = keyOf(c)
      if (key !== undefined && headers.authorization === undefined && headers['x-api-key'] === undefined) headers.authorization = `Bearer ${key}`
      let payload: string | Buffer | undefined
      if (c.rawBody !== undefined) payload = c.rawBody
      else if (c.body !== undefined) payload = JSON.stringify(c.body)
      if (payload !== undefined) headers['content-type'] ??= 'application/json'
      const res = await fetch(`http://127.0.0.1:${port}${c.path ?? '/'}`, { method: c.method ?? 'GET', headers, body: payload })
      status = res.status
      body = await res.text()
      if (status >= 400 && c.code !== undefined) expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/)
      // 431 and 400 from Node's HTTP parser are answered before any middleware runs
      if (status !== 431) expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    }
    const statuses = Array.isArray(c.status) ? c.status : [c.status]
    expect(statuses).toContain(status)
    if (c.code !== undefined) expect(problemCode(body)).toBe(c.code)
    if (status === 200) expect(JSON.parse(body)).toEqual({ data: [], next_cursor: null })
    expect(body).not.toMatch(/SQLITE|ER_|Sequelize|at .*\.[jt]s:\d+/)
    const after = await signals.count()
    if (c.inert === undefined) {
      expect(after).toBe(before)
      return
    }
    expect(after).toBe(before + 1)
    const stored = await signals.findOne({ order: [['id', 'DESC']] })
    const value = c.inert.field === 'payload' ? JSON.parse(String(stored?.payload)) : stored?.[c.inert.field]
    expect(value).toEqual(c.inert.value)
    const history = await fetch(`http://127.0.0.1:${port}/api/v1/signals?strategy_id=${STRATEGY}&after_seq=${Number(stored?.seq) - 1}`, { headers: { authorization: `Bearer ${publisher.key}` } })
    expect(history.headers.get('content-type')).toMatch(/^application\/json/)
    const listed = (await history.json() as { data: Array<Record<string, unknown>> }).data[0]
    expect(listed[c.inert.field]).toEqual(c.inert.value)
  }

  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => run(c))

  test('a body that stops short of its Content-Length (the client goes away) stores nothing and is logged as 499', async () => {
    const before = await signals.count()
    const body = JSON.stringify(valid)
    const requestId = uniqueId('short-body-')
    const socket = connectTcp(port, '127.0.0.1')
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    const gone = new Promise((resolve) => socket.once('close', resolve))
    const head = `POST /api/v1/signals HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${requestId}\r\nAuthorization: Bearer ${publisher.key}\r\nContent-Type: application/json\r\nContent-Length: ${body.length + 40}\r\n\r\n`
    await new Promise<void>((resolve, reject) => socket.write(`${head}${body}`, (err) => err ? reject(err) : resolve()))
    socket.destroy()
    await gone
    // the request's access entry is written when the server gives up on it: after that nothing more can be stored
    const [entry] = await waitFor(async () => {
      const found = (await hub.audit({ action: 'http.request' })).filter((a) => a.request_id === requestId)
      return found.length > 0 ? found : undefined
    })
    expect(entry).toMatchObject({ resource: 'POST /api/v1/signals', detail: expect.objectContaining({ status: 499 }) })
    expect(await signals.count()).toBe(before)
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200)
  })

  test('after SQL fragments in every field: /healthz answers, the tables are intact, a valid MQTT login works', async () => {
    const users = await hub.database().models.User.count()
    const keys = await hub.database().models.ApiKey.count()
    for (const fragment of SQL) {
      for (const patch of [{ symbol: fragment }, { description: fragment }, { type: fragment }, { strategy_id: fragment }]) {
        expect((await fetch(`http://127.0.0.1:${port}/api/v1/signals`, { method: 'POST', headers: { authorization: `Bearer ${publisher.key}`, 'content-type': 'application/json' }, body: JSON.stringify(signal(patch)) })).status).toBeLessThan(500)
      }
    }
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200)
    expect(await hub.database().models.User.count()).toBe(users)
    expect(await hub.database().models.ApiKey.count()).toBe(keys)
    const client = mqtt.connect(hub.mqttUrl, { protocolVersion: 4, reconnectPeriod: 0, username: 'u', password: publisher.key, clientId: uniqueId('rest-hostile-after-') })
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve())
        client.once('error', reject)
      })
    } finally {
      client.end(true)
    }
  })
})
