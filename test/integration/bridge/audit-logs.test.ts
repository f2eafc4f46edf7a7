import { startTestHub, type TestHub, type TestUser } from '../../helpers/hub'

describe('REST /api/v1/audit-logs', () => {
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

  test('operations are audited with a summary and no secret; filters by action and user', async () => {
    const created = await call('POST', '/users/me/keys', sub.key, { label: 'x' })
    const res = await call('GET', `/audit-logs?action=key.create&user_id=${sub.id}`, admin.key)
    expect(res.status).toBe(200)
    expect(res.body.data).toHaveLength(1)
    expect(res.body.data[0]).toMatchObject({ action: 'key.create', result: 'ok', user_id: sub.id, actor: 'sub', resource: `key/${created.body.id}` })
    expect(res.body.data[0].request_id).toEqual(expect.any(String))
    expect(JSON.stringify(res.body)).not.toContain(created.body.key)
  })

  test('filters by result and time, newest first, paged without gaps', async () => {
    await call('GET', '/users', sub.key)
    const denied = await call('GET', '/audit-logs?result=denied&limit=500', admin.key)
    expect(denied.body.data.length).toBeGreaterThan(0)
    expect(denied.body.data.every((a: { result: string }) => a.result === 'denied')).toBe(true)
    const future = new Date(Date.now() + 3_600_000).toISOString()
    expect((await call('GET', `/audit-logs?from=${encodeURIComponent(future)}`, admin.key)).body.data).toEqual([])
    // later requests add rows of their own: page through a fixed window (`to` is exclusive,
    // and the query writes buffered entries first)
    const to = encodeURIComponent(new Date().toISOString())
    const all = (await call('GET', `/audit-logs?limit=500&to=${to}`, admin.key)).body.data.map((a: { id: number }) => a.id)
    expect(all.length).toBeGreaterThan(3)
    const paged: number[] = []
    let cursor: string | null = null
    do {
      const page: { body: { data: Array<{ id: number }>, next_cursor: string | null } } = await call('GET', `/audit-logs?limit=2&to=${to}${cursor === null ? '' : `&cursor=${cursor}`}`, admin.key)
      paged.push(...page.body.data.map((a) => a.id))
      cursor = page.body.next_cursor
    } while (cursor !== null)
    expect(paged).toEqual(all)
    expect([...all].sort((a, b) => b - a)).toEqual(all)
  })

  test('bad filters are 422; non-admins 403; no key 401', async () => {
    expect((await call('GET', '/audit-logs?result=maybe', admin.key)).status).toBe(422)
    expect((await call('GET', '/audit-logs?from=yesterday', admin.key)).status).toBe(422)
    expect((await call('GET', '/audit-logs?user_id=x', admin.key)).status).toBe(422)
    expect((await call('GET', '/audit-logs', sub.key)).status).toBe(403)
    expect((await call('GET', '/audit-logs', null)).status).toBe(401)
  })
})
