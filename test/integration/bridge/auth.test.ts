import { cliContext } from '../../../core/action-context'
import { startBridge, type TestBridge } from '../../helpers/bridge'
import type { TestUser } from '../../helpers/fixtures'
import { call } from '../../helpers/http'

describe('authentication', () => {
  let bridge: TestBridge
  let user: TestUser
  beforeAll(async () => {
    // the lock-out has its own suite below; here every refusal must stay a 401
    bridge = await startBridge({ AUTH_FAIL_LIMIT: '1000' })
    user = await bridge.user('alice', 'publisher')
  })
  afterAll(async () => { await bridge.shutdown() })

  const expectProblem = (r: Awaited<ReturnType<typeof call>>, status: number, code: string): void => {
    expect({ status: r.status, code: r.body.code }).toEqual({ status, code })
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    expect(JSON.stringify(r.body)).not.toMatch(/\bat .*\.ts:\d+/)
  }

  test('no key → 401 unauthenticated', async () => {
    expectProblem(await call(bridge, 'GET', '/api/v1/signals'), 401, 'unauthenticated')
  })

  test.each([
    ['Basic scheme', 'Basic YWxpY2U6c2VjcmV0'],
    ['Bearer without a key', 'Bearer'],
    ['Bearer with two words', 'Bearer a b'],
    ['a bare key without scheme', 'shk_abc']
  ])('malformed Authorization (%s) → 401', async (_name, header) => {
    expectProblem(await call(bridge, 'GET', '/api/v1/signals', { headers: { authorization: header } }), 401, 'unauthenticated')
  })

  test('a wrong key → 401 unauthenticated', async () => {
    expectProblem(await call(bridge, 'GET', '/api/v1/signals', { key: `${user.key.slice(0, -4)}AAAA` }), 401, 'unauthenticated')
  })

  test('an over-long key → 401 unauthenticated', async () => {
    expectProblem(await call(bridge, 'GET', '/api/v1/signals', { key: 'k'.repeat(300) }), 401, 'unauthenticated')
  })

  test('a good key in Authorization or X-API-Key → 200', async () => {
    expect((await call(bridge, 'GET', '/api/v1/signals', { key: user.key })).status).toBe(200)
    expect((await call(bridge, 'GET', '/api/v1/signals', { headers: { 'x-api-key': user.key } })).status).toBe(200)
  })

  test('an empty X-API-Key → 401', async () => {
    expectProblem(await call(bridge, 'GET', '/api/v1/signals', { headers: { 'x-api-key': ' ' } }), 401, 'unauthenticated')
  })

  test('a revoked key → 401 key_revoked at once (even if cached)', async () => {
    const victim = await bridge.user('revoked', 'subscriber')
    expect((await call(bridge, 'GET', '/api/v1/signals', { key: victim.key })).status).toBe(200)
    await bridge.core.apiKeys.revoke(cliContext(), victim.keyId)
    expectProblem(await call(bridge, 'GET', '/api/v1/signals', { key: victim.key }), 401, 'key_revoked')
  })

  test('an expired key → 401 key_expired', async () => {
    const victim = await bridge.user('expired', 'subscriber')
    await bridge.database().models.ApiKey.update({ expires_at: new Date(Date.now() - 1000) }, { where: { id: victim.keyId } })
    expectProblem(await call(bridge, 'GET', '/api/v1/signals', { key: victim.key }), 401, 'key_expired')
  })

  test('a disabled user → 403 user_disabled', async () => {
    const victim = await bridge.user('disabled', 'subscriber')
    expect((await call(bridge, 'GET', '/api/v1/signals', { key: victim.key })).status).toBe(200)
    await bridge.core.users.update(cliContext(), victim.id, { status: 'disabled' })
    expectProblem(await call(bridge, 'GET', '/api/v1/signals', { key: victim.key }), 403, 'user_disabled')
  })

  test('the problem title follows Accept-Language', async () => {
    const zh = await call(bridge, 'GET', '/api/v1/signals', { headers: { 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.8' } })
    expect(zh.body.title).toBe('API 密钥缺失或无效')
    expect(zh.headers.get('content-language')).toBe('zh-CN')
    const en = await call(bridge, 'GET', '/api/v1/signals', { headers: { 'accept-language': 'en-US,zh;q=0.5' } })
    expect(en.body.title).toBe('Missing or invalid API key')
  })

  test('auth failures are counted in signalhub_auth_failures_total{door="rest"}', async () => {
    expect((await call(bridge, 'GET', '/api/v1/signals', { key: 'shk_counted_0000' })).status).toBe(401)
    const metrics = await (await fetch(`${bridge.baseUrl}/metrics`)).text()
    expect(metrics).toMatch(/signalhub_auth_failures_total\{door="rest",code="unauthenticated"\} [1-9]/)
  })
})

describe('failed-login lock-out', () => {
  let bridge: TestBridge
  beforeAll(async () => { bridge = await startBridge({ AUTH_FAIL_LIMIT: '3', AUTH_FAIL_WINDOW_SECONDS: '60' }) })
  afterAll(async () => { await bridge.shutdown() })

  test('after AUTH_FAIL_LIMIT failures the address gets 429 auth_locked, even with a good key', async () => {
    const good = await bridge.user('good', 'subscriber')
    for (let i = 0; i < 3; i++) expect((await call(bridge, 'GET', '/api/v1/signals', { key: `wrong-${i}` })).status).toBe(401)
    const locked = await call(bridge, 'GET', '/api/v1/signals', { key: 'wrong-again' })
    expect(locked.status).toBe(429)
    expect(locked.body.code).toBe('auth_locked')
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0)
    const stillLocked = await call(bridge, 'GET', '/api/v1/signals', { key: good.key })
    expect(stillLocked.status).toBe(429)
    expect(stillLocked.body.code).toBe('auth_locked')
  })
})

describe('per-key rate limit', () => {
  let bridge: TestBridge
  beforeAll(async () => { bridge = await startBridge({ RATE_LIMIT_PER_SECOND: '3' }) })
  afterAll(async () => { await bridge.shutdown() })

  test('past RATE_LIMIT_PER_SECOND → 429 rate_limited with Retry-After and RateLimit-* headers; other keys unaffected', async () => {
    const busy = await bridge.user('busy', 'subscriber')
    const calm = await bridge.user('calm', 'subscriber')
    const results = await Promise.all(Array.from({ length: 8 }, () => call(bridge, 'GET', '/api/v1/signals', { key: busy.key })))
    const ok = results.filter((r) => r.status === 200)
    const refused = results.filter((r) => r.status === 429)
    expect(ok.length).toBeGreaterThanOrEqual(1)
    expect(ok.length).toBeLessThanOrEqual(6)
    expect(refused.length).toBeGreaterThanOrEqual(2)
    const r = refused[0]
    expect(r.body.code).toBe('rate_limited')
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(r.headers.get('ratelimit-limit')).toBe('3')
    expect(r.headers.get('ratelimit-remaining')).toBe('0')
    expect(Number(r.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(1)
    expect(ok[0].headers.get('ratelimit-limit')).toBe('3')
    expect((await call(bridge, 'GET', '/api/v1/signals', { key: calm.key })).status).toBe(200)
    const metrics = await (await fetch(`${bridge.baseUrl}/metrics`)).text()
    expect(metrics).toMatch(/signalhub_rate_limited_total\{door="rest"\} [1-9]/)
  })
})
