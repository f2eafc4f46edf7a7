import { startTestHub, type TestHub, type TestUser } from '../../helpers/hub'

describe('REST /api/v1/me', () => {
  let hub: TestHub
  let admin: TestUser
  let pub: TestUser
  let sub: TestUser

  const call: TestHub['api'] = async (...args) => hub.api(...args)

  beforeAll(async () => {
    hub = await startTestHub()
    admin = await hub.user('root', 'admin')
    pub = await hub.user('pub', 'publisher')
    sub = await hub.user('sub', 'subscriber')
    await hub.strategy('s1', pub)
    await hub.subscribe(sub, 's1', ['BTC'])
  })
  afterAll(async () => hub.shutdown())

  test('GET /me: profile, keys, subscriptions and a notice for an expiring key', async () => {
    const spare = (await call('POST', '/users/me/keys', sub.key, {})).body
    await call('POST', `/keys/${spare.id}/rotate`, sub.key)
    const me = await call('GET', '/me', sub.key)
    expect(me.status).toBe(200)
    expect(me.body.user).toMatchObject({ id: sub.id, name: 'sub', role: 'subscriber' })
    expect(me.body.keys.length).toBe(3)
    expect(me.body.subscriptions).toEqual([expect.objectContaining({ strategy_id: 's1', symbols: ['BTC'] })])
    expect(me.body.notices).toEqual([expect.objectContaining({ kind: 'key_expiring', key_id: spare.id, expires_at: expect.any(String) })])
  })

  test('GET /me/export: everything about the caller, no hashes or keys', async () => {
    await call('GET', '/me', pub.key)
    const res = await call('GET', '/me/export', pub.key)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-disposition')).toMatch(/attachment/)
    expect(res.body.user.id).toBe(pub.id)
    expect(res.body.strategies.map((s: { id: string }) => s.id)).toEqual(['s1'])
    expect(res.body.audit_logs.length).toBeGreaterThan(0)
    for (const field of ['keys', 'subscriptions', 'permissions', 'client_bindings', 'reports']) expect(Array.isArray(res.body[field])).toBe(true)
    const text = JSON.stringify(res.body)
    expect(text).not.toContain(pub.key)
    expect(text).not.toMatch(/"hash"/)
  })

  test('DELETE /me erases the caller and pseudonymises its audit rows', async () => {
    const gone = await hub.user('gone', 'subscriber')
    await hub.subscribe(gone, 's1')
    expect((await call('GET', '/me', gone.key)).status).toBe(200)
    expect((await call('DELETE', '/me', gone.key)).status).toBe(204)
    expect((await call('GET', '/me', gone.key)).status).toBe(401)
    expect(hub.core.policy.current.can(gone.principal, 'subscribe', 'strategy/s1/BTC')).toBe(false)
    const rows = (await call('GET', '/audit-logs?action=me.erase', admin.key)).body.data
    expect(rows).toEqual([expect.objectContaining({ user_id: null, actor: expect.stringMatching(/^erased-[0-9a-f]{12}$/), resource: `user/${gone.id}` })])
    expect(await hub.audit({ user_id: gone.id })).toEqual([])
    expect((await hub.audit()).filter((a) => a.actor === 'gone')).toEqual([])
  })

  test('DELETE /me of a strategy owner is 409; no key is 401', async () => {
    expect((await call('DELETE', '/me', pub.key)).status).toBe(409)
    expect((await call('GET', '/me', null)).status).toBe(401)
    expect((await call('GET', '/me/export', null)).status).toBe(401)
  })

  test('/openapi.json describes every management route', async () => {
    const doc = await (await fetch(`${hub.baseUrl}/openapi.json`)).json() as { paths: Record<string, Record<string, unknown>> }
    const expected: Array<[string, string]> = [
      ['/api/v1/users', 'get'], ['/api/v1/users', 'post'], ['/api/v1/users/{id}', 'get'], ['/api/v1/users/{id}', 'patch'], ['/api/v1/users/{id}', 'delete'],
      ['/api/v1/users/{id}/keys', 'post'], ['/api/v1/users/{id}/keys', 'get'], ['/api/v1/keys/{id}/rotate', 'post'], ['/api/v1/keys/{id}/revoke', 'post'],
      ['/api/v1/users/{id}/client-bindings', 'get'], ['/api/v1/client-bindings/{clientId}', 'delete'],
      ['/api/v1/strategies', 'get'], ['/api/v1/strategies', 'post'], ['/api/v1/strategies/{id}', 'get'], ['/api/v1/strategies/{id}', 'patch'], ['/api/v1/strategies/{id}', 'delete'],
      ['/api/v1/subscriptions', 'get'], ['/api/v1/subscriptions', 'post'], ['/api/v1/subscriptions/{id}', 'delete'],
      ['/api/v1/roles', 'get'], ['/api/v1/roles', 'post'], ['/api/v1/roles/{id}/permissions', 'get'], ['/api/v1/roles/{id}/permissions', 'post'], ['/api/v1/roles/{id}/permissions', 'delete'],
      ['/api/v1/users/{id}/permissions', 'get'], ['/api/v1/users/{id}/permissions', 'post'], ['/api/v1/users/{id}/permissions', 'delete'],
      ['/api/v1/audit-logs', 'get'], ['/api/v1/reports', 'get'], ['/api/v1/me', 'get'], ['/api/v1/me/export', 'get'], ['/api/v1/me', 'delete']
    ]
    for (const [path, method] of expected) expect({ path, method, documented: doc.paths[path]?.[method] !== undefined }).toEqual({ path, method, documented: true })
  })
})
