import { startTestHub, type TestHub, type TestUser } from '../../helpers/hub'

describe('REST roles and permissions', () => {
  let hub: TestHub
  let admin: TestUser
  let sub: TestUser

  const call: TestHub['api'] = async (...args) => hub.api(...args)

  beforeAll(async () => {
    hub = await startTestHub()
    admin = await hub.user('root', 'admin')
    sub = await hub.user('sub', 'subscriber')
  })
  afterAll(async () => hub.shutdown())

  test('roles: list the seeded roles, create one (201), a duplicate is 409', async () => {
    const list = await call('GET', '/roles', admin.key)
    expect(list.body.data.map((r: { name: string }) => r.name)).toEqual(['admin', 'publisher', 'subscriber'])
    expect((await call('POST', '/roles', admin.key, { name: 'device', description: 'IoT devices' })).status).toBe(201)
    expect((await call('POST', '/roles', admin.key, { name: 'device' })).status).toBe(409)
    expect((await call('POST', '/roles', admin.key, { name: 'Bad Name' })).status).toBe(422)
  })

  test('role permissions: add (201) takes effect at once; remove by id or by rule (204)', async () => {
    const added = await call('POST', '/roles/subscriber/permissions', admin.key, { action: 'publish', topic: 'chat/${user_id}', effect: 'allow' })
    expect(added.status).toBe(201)
    expect(added.body).toMatchObject({ role: 'subscriber', action: 'publish', topic: 'chat/${user_id}', effect: 'allow' })
    expect(hub.core.policy.current.can(sub.principal, 'publish', `chat/${sub.id}`)).toBe(true)
    const list = await call('GET', '/roles/subscriber/permissions', admin.key)
    expect(list.body.data.map((p: { id: number }) => p.id)).toContain(added.body.id)
    expect((await call('DELETE', `/roles/subscriber/permissions/${added.body.id}`, admin.key)).status).toBe(204)
    expect(hub.core.policy.current.can(sub.principal, 'publish', `chat/${sub.id}`)).toBe(false)
    const again = await call('POST', '/roles/subscriber/permissions', admin.key, { action: 'read', topic: 'news/#', effect: 'allow' })
    expect((await call('DELETE', '/roles/subscriber/permissions', admin.key, { action: 'read', topic: 'news/#', effect: 'allow' })).status).toBe(204)
    expect((await call('DELETE', `/roles/subscriber/permissions?permission_id=${again.body.id}`, admin.key)).status).toBe(404)
  })

  test('user permissions: a deny wins over the role\'s allow', async () => {
    await hub.strategy('s1', admin)
    await hub.subscribe(sub, 's1')
    expect(hub.core.policy.current.can(sub.principal, 'subscribe', 'strategy/s1/BTC')).toBe(true)
    const deny = await call('POST', `/users/${sub.id}/permissions`, admin.key, { action: 'subscribe', topic: 'strategy/s1/#', effect: 'deny' })
    expect(deny.status).toBe(201)
    expect(hub.core.policy.current.can(sub.principal, 'subscribe', 'strategy/s1/BTC')).toBe(false)
    expect((await call('GET', `/users/${sub.id}/permissions`, admin.key)).body.data).toHaveLength(1)
    expect((await call('DELETE', `/users/${sub.id}/permissions/${deny.body.id}`, admin.key)).status).toBe(204)
    expect(hub.core.policy.current.can(sub.principal, 'subscribe', 'strategy/s1/BTC')).toBe(true)
  })

  test('invalid rules are 422, unknown roles 404', async () => {
    for (const body of [{}, { action: 'fly', topic: 'a', effect: 'allow' }, { action: 'read', topic: 'a/#/b', effect: 'allow' }, { action: 'read', topic: 'a+', effect: 'allow' }, { action: 'read', topic: 'a', effect: 'perhaps' }]) {
      expect((await call('POST', '/roles/subscriber/permissions', admin.key, body)).status).toBe(422)
    }
    expect((await call('GET', '/roles/nope/permissions', admin.key)).status).toBe(404)
    expect((await call('POST', '/users/999999/permissions', admin.key, { action: 'read', topic: 'a', effect: 'allow' })).status).toBe(404)
  })

  test('non-admins get 403 everywhere; no key 401', async () => {
    expect((await call('GET', '/roles', sub.key)).status).toBe(403)
    expect((await call('POST', '/roles', sub.key, { name: 'x' })).status).toBe(403)
    expect((await call('GET', '/roles/subscriber/permissions', sub.key)).status).toBe(403)
    expect((await call('POST', `/users/${sub.id}/permissions`, sub.key, { action: 'admin', topic: '#', effect: 'allow' })).status).toBe(403)
    expect((await call('DELETE', '/roles/subscriber/permissions/1', sub.key)).status).toBe(403)
    expect((await call('GET', '/roles', null)).status).toBe(401)
  })
})
