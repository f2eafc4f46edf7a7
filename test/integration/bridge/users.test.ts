import { startTestHub, type TestHub, type TestUser } from '../../helpers/hub'

describe('REST /api/v1/users', () => {
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

  test('POST creates a user (201) and GET, PATCH, list read it back', async () => {
    const created = await call('POST', '/users', admin.key, { name: 'carol', contact: 'c@example.com', role: 'publisher' })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ name: 'carol', role: 'publisher', status: 'active' })
    expect((await call('GET', `/users/${created.body.id}`, admin.key)).body.name).toBe('carol')
    const patched = await call('PATCH', `/users/${created.body.id}`, admin.key, { contact: null, role: 'subscriber' })
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({ contact: null, role: 'subscriber' })
    const ids: number[] = []
    let cursor: string | null = null
    do {
      const page: { status: number, body: { data: Array<{ id: number }>, next_cursor: string | null } } = await call('GET', `/users?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`, admin.key)
      expect(page.status).toBe(200)
      expect(page.body.data.length).toBeLessThanOrEqual(2)
      ids.push(...page.body.data.map((u) => u.id))
      cursor = page.body.next_cursor
    } while (cursor !== null)
    expect(ids.length).toBeGreaterThanOrEqual(3)
    expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b))
    expect(ids[ids.length - 1]).toBe(created.body.id)
  })

  test('PATCH status disabled stops the user\'s key at once; enabling restores it', async () => {
    const dan = await hub.user('dan', 'subscriber')
    expect((await call('GET', '/me', dan.key)).status).toBe(200)
    expect((await call('PATCH', `/users/${dan.id}`, admin.key, { status: 'disabled' })).body.status).toBe('disabled')
    const refused = await call('GET', '/me', dan.key)
    expect(refused.status).toBe(403)
    expect(refused.body.code).toBe('user_disabled')
    await call('PATCH', `/users/${dan.id}`, admin.key, { status: 'active' })
    expect((await call('GET', '/me', dan.key)).status).toBe(200)
  })

  test('DELETE erases a user (204); deleting again is 404', async () => {
    const erin = await hub.user('erin', 'subscriber')
    expect((await call('DELETE', `/users/${erin.id}`, admin.key)).status).toBe(204)
    expect((await call('GET', '/me', erin.key)).status).toBe(401)
    expect((await call('DELETE', `/users/${erin.id}`, admin.key)).status).toBe(404)
  })

  test('a duplicate name is 409 and invalid bodies are 422', async () => {
    expect((await call('POST', '/users', admin.key, { name: 'sub', role: 'subscriber' })).status).toBe(409)
    for (const body of [{}, { name: '', role: 'subscriber' }, { name: 'x', role: 'nope' }, { name: 'x', role: 'subscriber', extra: 1 }, { name: 5, role: 'subscriber' }]) {
      const res = await call('POST', '/users', admin.key, body)
      expect(res.status).toBe(422)
      expect(res.body.code).toBe('validation_failed')
    }
    expect((await call('PATCH', `/users/${sub.id}`, admin.key, { status: 'sleeping' })).status).toBe(422)
    expect((await call('GET', '/users?limit=501', admin.key)).status).toBe(422)
    expect((await call('GET', '/users?cursor=zzz', admin.key)).status).toBe(422)
  })

  test('non-admins get 403, no key gets 401, unknown ids 404', async () => {
    expect((await call('GET', '/users', sub.key)).status).toBe(403)
    expect((await call('POST', '/users', sub.key, { name: 'x', role: 'admin' })).status).toBe(403)
    expect((await call('PATCH', `/users/${sub.id}`, sub.key, { role: 'admin' })).status).toBe(403)
    expect((await call('DELETE', `/users/${admin.id}`, sub.key)).status).toBe(403)
    expect((await call('GET', `/users/${admin.id}`, sub.key)).status).toBe(403)
    expect((await call('GET', `/users/${sub.id}`, sub.key)).status).toBe(200)
    expect((await call('GET', '/users', null)).status).toBe(401)
    expect((await call('POST', '/users', 'shk_wrong', { name: 'x', role: 'admin' })).status).toBe(401)
    expect((await call('GET', '/users/999999', admin.key)).status).toBe(404)
    expect((await call('GET', '/users/abc', admin.key)).status).toBe(404)
  })
})
