import { previousDay } from '../../../core/jobs/reports'
import { startTestHub, type TestHub, type TestUser } from '../../helpers/hub'

const RUNS = [2, 3, 4].map((day) => new Date(Date.UTC(2026, 0, day, 12)))

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
    const owner = await hub.user('owner', 'publisher')
    await hub.strategy('daily', owner)
    await hub.subscribe(sub, 'daily')
    // the reports job writes one per subscriber for the day before `now`: three days for sub, the last one for other too
    for (const [i, now] of RUNS.entries()) {
      if (i === RUNS.length - 1) await hub.subscribe(other, 'daily')
      await hub.core.jobs.run('reports', { now })
    }
  })
  afterAll(async () => hub.shutdown())

  test('lists only the caller\'s reports, newest first, paged', async () => {
    const first = await call('GET', '/reports?limit=2', sub.key)
    expect(first.status).toBe(200)
    const [day1, day2, day3] = RUNS.map((now) => previousDay(now, hub.config.TZ_DEFAULT).start.toISOString())
    const starts = (page: { body: { data: Array<{ period_start: string }> } }): string[] => page.body.data.map((r) => r.period_start)
    expect(starts(first)).toEqual([day3, day2])
    const second = await call('GET', `/reports?limit=2&cursor=${first.body.next_cursor}`, sub.key)
    expect(starts(second)).toEqual([day1])
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
