import { startTestHub, type TestHub, type TestUser } from '../../helpers/hub'

describe('REST /api/v1/subscriptions', () => {
  let hub: TestHub
  let admin: TestUser
  let owner: TestUser
  let sub: TestUser
  let sub2: TestUser

  const call: TestHub['api'] = async (...args) => hub.api(...args)

  beforeAll(async () => {
    hub = await startTestHub()
    admin = await hub.user('root', 'admin')
    owner = await hub.user('owner', 'publisher')
    sub = await hub.user('sub', 'subscriber')
    sub2 = await hub.user('sub2', 'subscriber')
    await hub.strategy('open', owner, 'public')
    await hub.strategy('closed', owner, 'private')
  })
  afterAll(async () => hub.shutdown())

  test('a subscriber subscribes itself to a public strategy (201) and may then read it', async () => {
    const res = await call('POST', '/subscriptions', sub.key, { strategy_id: 'open', symbols: ['BTC'] })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ user_id: sub.id, strategy_id: 'open', symbols: ['BTC'], status: 'active' })
    expect(hub.core.policy.current.can(sub.principal, 'read', 'strategy/open/BTC')).toBe(true)
    const again = await call('POST', '/subscriptions', sub.key, { strategy_id: 'open' })
    expect(again.status).toBe(200)
    expect(again.body).toMatchObject({ id: res.body.id, symbols: null })
  })

  test('a private strategy: a subscriber cannot subscribe itself, the owner grants it', async () => {
    expect((await call('POST', '/subscriptions', sub.key, { strategy_id: 'closed' })).status).toBe(404)
    expect((await call('POST', '/subscriptions', sub.key, { strategy_id: 'open', user_id: sub2.id })).status).toBe(403)
    const granted = await call('POST', '/subscriptions', owner.key, { strategy_id: 'closed', user_id: sub2.id })
    expect(granted.status).toBe(201)
    expect(hub.core.policy.current.can(sub2.principal, 'subscribe', 'strategy/closed/#')).toBe(true)
    expect((await call('GET', '/subscriptions?strategy_id=closed', owner.key)).body.data.map((s: { user_id: number }) => s.user_id)).toEqual([sub2.id])
  })

  test('list: self only, admin by user_id; other user\'s list is 403', async () => {
    const listed = await hub.user('listed', 'subscriber')
    await hub.subscribe(listed, 'open')
    expect((await call('GET', '/subscriptions', listed.key)).body.data).toMatchObject([{ user_id: listed.id, strategy_id: 'open' }])
    expect((await call('GET', `/subscriptions?user_id=${listed.id}`, sub.key)).status).toBe(403)
    expect((await call('GET', `/subscriptions?user_id=${listed.id}`, admin.key)).body.data).toMatchObject([{ user_id: listed.id, strategy_id: 'open' }])
    expect((await call('GET', '/subscriptions?user_id=abc', admin.key)).status).toBe(422)
  })

  test('invalid bodies are 422; unknown strategy 404; no key 401', async () => {
    for (const body of [{}, { strategy_id: '' }, { strategy_id: 'open', symbols: [] }, { strategy_id: 'open', symbols: ['a/b'] }, { strategy_id: 'open', symbols: 'BTC' }, { strategy_id: 'open', user_id: 'me' }]) {
      expect((await call('POST', '/subscriptions', sub.key, body)).status).toBe(422)
    }
    expect((await call('POST', '/subscriptions', sub.key, { strategy_id: 'nope' })).status).toBe(404)
    expect((await call('POST', '/subscriptions', null, { strategy_id: 'open' })).status).toBe(401)
  })

  test('DELETE by someone else is 403; by the subscriber 204, and access ends at once', async () => {
    const s = (await call('POST', '/subscriptions', sub.key, { strategy_id: 'open' })).body
    expect((await call('DELETE', `/subscriptions/${s.id}`, sub2.key)).status).toBe(403)
    expect((await call('DELETE', `/subscriptions/${s.id}`, sub.key)).status).toBe(204)
    expect(hub.core.policy.current.can(sub.principal, 'read', 'strategy/open/BTC')).toBe(false)
    expect((await call('DELETE', `/subscriptions/${s.id}`, admin.key)).status).toBe(404)
  })
})
