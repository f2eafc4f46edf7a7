import { startBridge, type TestBridge } from '../../helpers/bridge'
import type { TestUser } from '../../helpers/fixtures'
import { call } from '../../helpers/http'
import { freshDatabase } from '../../helpers/node'
import { testMysql } from '../../helpers/services'
import { TcpProxy } from '../../helpers/tcp-proxy'

let bridge: TestBridge
let user: TestUser
beforeAll(async () => {
  bridge = await startBridge({ CORS_ORIGINS: 'https://console.example' })
  user = await bridge.user('alice', 'publisher')
})
afterAll(async () => { await bridge.shutdown() })

describe('probes', () => {
  test('/healthz is public and answers ok', async () => {
    const r = await call(bridge, 'GET', '/healthz')
    expect(r).toMatchObject({ status: 200, body: { status: 'ok' } })
  })

  test('/readyz checks the database (and Redis when configured)', async () => {
    const r = await call(bridge, 'GET', '/readyz')
    expect(r.status).toBe(200)
    expect(r.body.checks.database).toBe('up')
    if (process.env.REDIS_URL !== undefined) expect(r.body.checks.redis).toBe('up')
  })

  testMysql('/readyz answers 503 when the database cannot be reached', async () => {
    const scratch = await freshDatabase()
    const base = new URL(scratch.url)
    const proxy = await TcpProxy.start(base.hostname, Number(base.port || 3306))
    const down = await startBridge({ DATABASE_URL: proxy.route(scratch.url) }, scratch)
    try {
      expect((await call(down, 'GET', '/readyz')).status).toBe(200)
      proxy.cut('refuse')
      const r = await call(down, 'GET', '/readyz')
      expect(r.status).toBe(503)
      expect(r.body).toMatchObject({ status: 'unavailable', checks: { database: 'down' } })
    } finally {
      proxy.restore()
      await down.shutdown()
      await proxy.close()
    }
  })

  test('/metrics is Prometheus text with a latency histogram per route template', async () => {
    await call(bridge, 'GET', '/api/v1/signals?limit=5', { key: user.key })
    const r = await call(bridge, 'GET', '/metrics')
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/)
    expect(r.body).toMatch(/signalhub_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/signals",status="200"\} [1-9]/)
    expect(r.body).not.toMatch(/route="\/api\/v1\/signals\?/)
  })

  test('/metrics requires the token when METRICS_TOKEN is set', async () => {
    const guarded = await startBridge({ METRICS_TOKEN: 'metrics-token-0123456789' })
    const refused = await call(guarded, 'GET', '/metrics')
    expect(refused.status).toBe(401)
    expect(refused.body.code).toBe('unauthenticated')
    expect((await call(guarded, 'GET', '/metrics', { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401)
    expect((await call(guarded, 'GET', '/metrics', { headers: { authorization: 'Bearer metrics-token-0123456789' } })).status).toBe(200)
    await guarded.shutdown()
  })
})

describe('API description', () => {
  test('/openapi.json is OpenAPI 3.1 describing the signal routes and the problem schema', async () => {
    const r = await call(bridge, 'GET', '/openapi.json')
    expect(r.status).toBe(200)
    expect(r.body.openapi).toBe('3.1.0')
    expect(Object.keys(r.body.paths)).toEqual(expect.arrayContaining(['/api/v1/signals', '/api/v1/signals/stream', '/api/v1/stats', '/healthz', '/readyz', '/metrics']))
    expect(Object.keys(r.body.paths['/api/v1/signals'])).toEqual(expect.arrayContaining(['get', 'post']))
    expect(r.body.components.schemas.Problem).toBeDefined()
    expect(r.body.components.schemas.Signal).toBeDefined()
    const post = r.body.paths['/api/v1/signals'].post
    expect(post.responses['422'].content['application/problem+json']).toBeDefined()
    expect(JSON.stringify(post.requestBody)).toContain('"buy"')
  })

  test('/docs serves Swagger UI and its assets locally', async () => {
    const redirect = await fetch(`${bridge.baseUrl}/docs`, { redirect: 'manual' })
    expect(redirect.status).toBe(301)
    expect(redirect.headers.get('location')).toBe('/docs/')
    const page = await call(bridge, 'GET', '/docs/')
    expect(page.status).toBe(200)
    expect(page.body).toContain('swagger-ui')
    expect(page.body).not.toMatch(/https?:\/\/(cdn|unpkg)/)
    const init = await fetch(`${bridge.baseUrl}/docs/swagger-ui-init.js`)
    expect(init.status).toBe(200)
    expect(await init.text()).toContain('/openapi.json')
    expect((await fetch(`${bridge.baseUrl}/docs/swagger-ui-bundle.js`)).status).toBe(200)
  })
})

describe('request handling', () => {
  test('a plain X-Request-Id is echoed; a strange one is replaced', async () => {
    const kept = await call(bridge, 'GET', '/healthz', { headers: { 'x-request-id': 'trace-123' } })
    expect(kept.headers.get('x-request-id')).toBe('trace-123')
    const replaced = await call(bridge, 'GET', '/healthz', { headers: { 'x-request-id': 'bad id with spaces' } })
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })

  test('unknown routes → 404 route_not_found problem, outside and inside /api/v1', async () => {
    const outside = await call(bridge, 'GET', '/nowhere')
    expect(outside.status).toBe(404)
    expect(outside.body.code).toBe('route_not_found')
    const inside = await call(bridge, 'DELETE', '/api/v1/signals/whatever', { key: user.key })
    expect(inside.status).toBe(404)
    expect(inside.body).toMatchObject({ code: 'route_not_found', type: 'urn:signal-hub:problem:route_not_found', title: 'No such route' })
  })

  test('Chinese problem titles for zh, English otherwise', async () => {
    const zh = await call(bridge, 'GET', '/nowhere', { headers: { 'accept-language': 'zh' } })
    expect(zh.body.title).toBe('路由不存在')
    const tw = await call(bridge, 'GET', '/nowhere', { headers: { 'accept-language': 'zh-TW' } })
    expect(tw.body.title).toBe('路由不存在')
    const fr = await call(bridge, 'GET', '/nowhere', { headers: { 'accept-language': 'fr-FR' } })
    expect(fr.body.title).toBe('No such route')
  })

  test('security headers are set (helmet)', async () => {
    const r = await call(bridge, 'GET', '/healthz')
    expect(r.headers.get('x-content-type-options')).toBe('nosniff')
    expect(r.headers.get('x-powered-by')).toBeNull()
  })

  test('CORS answers allowed origins only', async () => {
    const preflight = await fetch(`${bridge.baseUrl}/api/v1/signals`, {
      method: 'OPTIONS',
      headers: { origin: 'https://console.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' }
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://console.example')
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization')
    const foreign = await fetch(`${bridge.baseUrl}/healthz`, { headers: { origin: 'https://evil.example' } })
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull()
  })

  test('every API request is audited with user, method, route, status, ip, request id and latency', async () => {
    const r = await call(bridge, 'GET', '/api/v1/signals', { key: user.key, headers: { 'x-request-id': 'audit-me-1' } })
    expect(r.status).toBe(200)
    const [row] = (await bridge.audit({ action: 'http.request' })).filter((a) => a.request_id === 'audit-me-1')
    expect(row).toMatchObject({ user_id: user.id, result: 'ok', resource: 'GET /api/v1/signals', ip: expect.stringMatching(/127\.0\.0\.1/) })
    expect(row.detail).toMatchObject({ method: 'GET', route: '/api/v1/signals', status: 200, latency_ms: expect.any(Number) })
  })

  test('the audited path is the whole path without the query, at any depth of router', async () => {
    await bridge.strategy('audited-path', user)
    const r = await call(bridge, 'GET', '/api/v1/strategies/audited-path?x=1', { key: user.key, headers: { 'x-request-id': 'audit-path-1' } })
    expect(r.status).toBe(200)
    const bad = await call(bridge, 'GET', '/api/v1/strategies/audited-path?y=2', { key: 'sh_not_a_key', headers: { 'x-request-id': 'audit-path-2' } })
    expect(bad.status).toBe(401)
    const [row] = (await bridge.audit({ action: 'http.request' })).filter((a) => a.request_id === 'audit-path-1')
    expect(row.detail).toMatchObject({ route: '/api/v1/strategies/:id', path: '/api/v1/strategies/audited-path' })
    const [refusal] = (await bridge.audit({ action: 'http.auth' })).filter((a) => a.request_id === 'audit-path-2')
    expect(refusal.resource).toBe('GET /api/v1/strategies/audited-path')
  })

  test('a signal ingest is one audit row: the operation, with the request\'s method, route, status and latency', async () => {
    await bridge.strategy('audited-one', user)
    const body = { strategy_id: 'audited-one', symbol: 'AAPL', type: 'buy', execute_date: '2026-11-21T09:30:00+08:00', description: 'x' }
    const ok = await call(bridge, 'POST', '/api/v1/signals', { key: user.key, body, headers: { 'x-request-id': 'audit-ingest-1' } })
    expect(ok.status).toBe(201)
    const other = await bridge.user('mallory', 'publisher')
    const refused = await call(bridge, 'POST', '/api/v1/signals', { key: other.key, body, headers: { 'x-request-id': 'audit-ingest-2' } })
    expect(refused.status).toBe(403)
    const rows = (await bridge.audit()).filter((a) => a.request_id === 'audit-ingest-1' || a.request_id === 'audit-ingest-2').reverse()
    expect(rows.map((r) => [r.request_id, r.action, r.result, r.resource])).toEqual([
      ['audit-ingest-1', 'signal.ingest', 'ok', 'strategy/audited-one'],
      ['audit-ingest-2', 'signal.ingest', 'denied', 'strategy/audited-one']
    ])
    expect(rows[0].user_id).toBe(user.id)
    expect(rows[0].ip).toMatch(/127\.0\.0\.1/)
    expect(rows[0].detail).toEqual({
      source: 'rest', count: 1, seqs: [1], method: 'POST', route: '/api/v1/signals', path: '/api/v1/signals', status: 201, latency_ms: expect.any(Number)
    })
    expect(rows[1].detail).toMatchObject({ code: 'forbidden', method: 'POST', status: 403 })
  })

  test('refused requests are audited as denied, with the route template even when a handler threw', async () => {
    await call(bridge, 'GET', '/api/v1/signals?limit=0', { key: user.key, headers: { 'x-request-id': 'audit-me-2' } })
    await call(bridge, 'GET', '/api/v1/signals', { headers: { 'x-request-id': 'audit-me-3' } })
    const requests = await bridge.audit({ action: 'http.request' })
    expect(requests.find((a) => a.request_id === 'audit-me-2')).toMatchObject({ result: 'failed', resource: 'GET /api/v1/signals' })
    expect(requests.find((a) => a.request_id === 'audit-me-3')).toMatchObject({ result: 'denied', user_id: null })
  })
})
