import { startTestHub, type TestHub, type TestUser } from '../../helpers/hub'

describe('REST /api/v1/reports', () => {
  let hub: TestHub
  let admin: TestUser
  let sub: TestUser
  let other: TestUser

  const call: TestHub['api'] = async (...args) => hub.api(...args)

  beforeAll(async () => {
    hub = await startTestHub()
    admin = await hub.user('root', 'admin')
    sub = await hub.user('sub', 'subscriber')
    other = await hub.user('other', 'subscriber')
    const { Report } = hub.core.db.models
    for (let day = 1; day <= 3; day++) {
      await Report.create({ user_id: sub.id, period: 'daily', period_start: new Date(Date.UTC(2026, 0, day)), period_end: new Date(Date.UTC(2026, 0, day + 1)), content: JSON.stringify({ day }) })
    }
    await Report.create({ user_id: other.id, period: 'daily', period_start: new Date(Date.UTC(2026, 0, 1)), period_end: new Date(Date.UTC(2026, 0, 2)), content: '{}' })
  })
  afterAll(async () => hub.shutdown())

  test('lists only the caller\'s reports, newest first, paged', async () => {
    const first = await call('GET', '/reports?limit=2', sub.key)
    expect(first.status).toBe(200)
    expect(first.body.data.map((r: { content: { day: number } }) => r.content.day)).toEqual([3, 2])
    const second = await call('GET', `/reports?limit=2&cursor=${first.body.next_cursor}`, sub.key)
    expect(second.body.data.map((r: { content: { day: number } }) => r.content.day)).toEqual([1])
    expect(second.body.next_cursor).toBeNull()
    expect((await call('GET', '/reports', other.key)).body.data).toHaveLength(1)
  })

  test('another user\'s reports: admin only; no key 401; bad limit 422', async () => {
    expect((await call('GET', `/reports?user_id=${sub.id}`, other.key)).status).toBe(403)
    expect((await call('GET', `/reports?user_id=${sub.id}`, admin.key)).body.data).toHaveLength(3)
    expect((await call('GET', '/reports', null)).status).toBe(401)
    expect((await call('GET', '/reports?limit=-1', sub.key)).status).toBe(422)
  })
})
