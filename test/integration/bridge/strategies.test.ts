import { startTestHub, type TestHub, type TestUser } from '../../helpers/hub'

describe('REST /api/v1/strategies', () => {
  let hub: TestHub
  let admin: TestUser
  let pub: TestUser
  let pub2: TestUser
  let sub: TestUser

  const call: TestHub['api'] = async (...args) => hub.api(...args)

  beforeAll(async () => {
    hub = await startTestHub()
    admin = await hub.user('root', 'admin')
    pub = await hub.user('pub', 'publisher')
    pub2 = await hub.user('pub2', 'publisher')
    sub = await hub.user('sub', 'subscriber')
    await hub.strategy('trend.v1', pub)
  })
  afterAll(async () => hub.shutdown())

  test('a publisher creates its own strategy (201) and may publish to it at once', async () => {
    const created = await call('POST', '/strategies', pub.key, { id: 'fresh.v1', name: 'Fresh', description: 'follows trends' })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ id: 'fresh.v1', owner_id: pub.id, visibility: 'public', last_seq: 0 })
    expect(hub.core.policy.current.can(pub.principal, 'publish', 'strategy/fresh.v1/BTC')).toBe(true)
    expect((await call('GET', '/strategies/fresh.v1', sub.key)).status).toBe(200)
  })

  test('creating for another owner is 403 for a publisher, 201 for an admin; a subscriber may not create', async () => {
    expect((await call('POST', '/strategies', pub.key, { id: 'x1', name: 'x', owner_id: pub2.id })).status).toBe(403)
    expect((await call('POST', '/strategies', admin.key, { id: 'x1', name: 'x', owner_id: pub2.id })).body.owner_id).toBe(pub2.id)
    expect((await call('POST', '/strategies', sub.key, { id: 'x2', name: 'x' })).status).toBe(403)
    expect((await call('POST', '/strategies', pub.key, { id: 'x1', name: 'again' })).status).toBe(409)
  })

  test('invalid bodies are 422', async () => {
    for (const body of [{}, { id: 'a/b', name: 'x' }, { id: 'ok', name: '' }, { id: 'ok', name: 'x', visibility: 'hidden' }, { id: 'ok', name: 'x', extra: true }, { id: 'y'.repeat(65), name: 'x' }]) {
      const res = await call('POST', '/strategies', pub.key, body)
      expect(res.status).toBe(422)
      expect(res.body.issues.length).toBeGreaterThan(0)
    }
    expect((await call('PATCH', '/strategies/trend.v1', pub.key, {})).status).toBe(422)
  })

  test('private strategies are hidden from others; list pages by id', async () => {
    await call('POST', '/strategies', pub2.key, { id: 'secret', name: 's', visibility: 'private' })
    expect((await call('GET', '/strategies/secret', sub.key)).status).toBe(404)
    const ids = (await call('GET', '/strategies?limit=500', sub.key)).body.data.map((s: { id: string }) => s.id)
    expect(ids).not.toContain('secret')
    expect((await call('GET', '/strategies?limit=500', admin.key)).body.data.map((s: { id: string }) => s.id)).toContain('secret')
    const first = await call('GET', '/strategies?limit=1', admin.key)
    const second = await call('GET', `/strategies?limit=1&cursor=${first.body.next_cursor}`, admin.key)
    expect(second.body.data[0].id > first.body.data[0].id).toBe(true)
    expect((await call('GET', '/strategies?limit=0', admin.key)).status).toBe(422)
  })

  test('PATCH by the owner (200), by another publisher 403', async () => {
    const patched = await call('PATCH', '/strategies/trend.v1', pub.key, { name: 'Trend 2', visibility: 'private' })
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({ name: 'Trend 2', visibility: 'private' })
    await call('PATCH', '/strategies/trend.v1', pub.key, { visibility: 'public' })
    expect((await call('PATCH', '/strategies/trend.v1', pub2.key, { name: 'mine' })).status).toBe(403)
  })

  test('DELETE: 409 with signals unless force=true, then 204; others 403; no key 401', async () => {
    await call('POST', '/strategies', pub.key, { id: 'doomed', name: 'd' })
    expect((await call('POST', '/signals', pub.key, { strategy_id: 'doomed', symbol: 'X', type: 'buy', execute_date: '2026-11-21T09:30:00+08:00' })).status).toBe(201)
    expect((await call('DELETE', '/strategies/doomed', pub2.key)).status).toBe(403)
    expect((await call('DELETE', '/strategies/doomed', null)).status).toBe(401)
    expect((await call('DELETE', '/strategies/doomed', pub.key)).status).toBe(409)
    expect((await call('DELETE', '/strategies/doomed?force=maybe', pub.key)).status).toBe(422)
    expect((await call('DELETE', '/strategies/doomed?force=true', pub.key)).status).toBe(204)
    expect((await call('GET', '/strategies/doomed', admin.key)).status).toBe(404)
    expect(hub.core.policy.current.can(pub.principal, 'publish', 'strategy/doomed/X')).toBe(false)
  })
})
