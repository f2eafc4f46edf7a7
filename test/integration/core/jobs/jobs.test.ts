import type { MqttClient } from 'mqtt'
import { cliContext } from '../../../../core/action-context'
import { previousDay } from '../../../../core/jobs/reports'
import { uniqueId } from '../../../helpers/fixtures'
import { startTestHub, type TestHub, type TestUser } from '../../../helpers/hub'
import { Inbox, subscribe, TestClients } from '../../../helpers/mqtt-clients'
import { waitFor } from '../../../helpers/wait'

const DAY = 86_400_000

describe('scheduled jobs', () => {
  let hub: TestHub
  /** The hub's clock: the real time unless a test sets it. */
  let clock: Date | undefined
  const clients = new TestClients()

  beforeEach(async () => {
    clock = undefined
    hub = await startTestHub({ LOG_RETENTION_DAYS: '30', KEY_MAX_AGE_DAYS: '90', KEY_GRACE_HOURS: '24', TZ_DEFAULT: 'Asia/Shanghai' }, undefined, { now: () => clock ?? new Date() })
  })

  afterEach(async () => {
    await clients.endAll()
    await hub.shutdown()
  })

  async function listen(user: TestUser, topic: string): Promise<{ client: MqttClient, inbox: Inbox }> {
    const client = await clients.connect(hub.mqttUrl, { username: user.name, password: user.key })
    const inbox = new Inbox(client)
    expect(await subscribe(client, [topic])).toEqual([1])
    return { client, inbox }
  }

  test('cleanup-logs deletes audit rows past retention in batches and keeps the recent ones', async () => {
    const { AuditLog } = hub.database().models
    const now = new Date('2026-11-21T12:00:00Z')
    const entry = { result: 'ok' as const, user_id: null, actor: null, resource: null, ip: null, client_id: null, request_id: null, detail: null }
    await AuditLog.bulkCreate(Array.from({ length: 5200 }, (_, i) => ({ ...entry, at: new Date(now.getTime() - 31 * DAY - i), action: 'test.old' })))
    await AuditLog.create({ ...entry, at: new Date(now.getTime() - 29 * DAY), action: 'test.recent' })
    const progress: string[] = []
    const result = await hub.core.jobs.run('cleanup-logs', { now, progress: (m) => progress.push(m) })
    expect(result.counts.audit_deleted).toBe(5200)
    expect(progress.length).toBeGreaterThanOrEqual(2)
    expect(await AuditLog.count({ where: { action: 'test.old' } })).toBe(0)
    expect(await AuditLog.count({ where: { action: 'test.recent' } })).toBe(1)
  })

  test('reports stores one daily report per subscriber, publishes it on users/<id>/reports, and a re-run adds nothing', async () => {
    const owner = await hub.user('owner', 'publisher')
    const reader = await hub.user('reader', 'subscriber')
    const limited = await hub.user('limited', 'subscriber')
    const strategy = uniqueId('trend')
    await hub.strategy(strategy, owner)
    await hub.subscribe(reader, strategy)
    await hub.subscribe(limited, strategy, ['MSFT'])
    const now = new Date('2026-11-21T03:00:00Z')
    const { start } = previousDay(now, 'Asia/Shanghai')
    expect(start.toISOString()).toBe('2026-11-19T16:00:00.000Z')
    // signals stored on the reported day (hours 1–3) and on the next (hour 30)
    for (const [symbol, type, hour] of [['AAPL', 'buy', 1], ['AAPL', 'sell', 2], ['MSFT', 'buy', 3], ['MSFT', 'buy', 30]] as const) {
      clock = new Date(start.getTime() + hour * 3_600_000)
      expect((await hub.api('POST', '/signals', owner.key, { strategy_id: strategy, symbol, type, execute_date: clock.toISOString() })).status).toBe(201)
    }
    clock = undefined
    const { inbox } = await listen(reader, `users/${reader.id}/reports`)

    const first = await hub.core.jobs.run('reports', { now })
    expect(first.counts).toEqual({ stored: 2, skipped: 0 })
    expect((await inbox.next(`users/${reader.id}/reports`)).json()).toMatchObject({
      type: 'report', period: 'daily', total: 3, strategies: [{ strategy_id: strategy, total: 3, by_symbol: { AAPL: 2, MSFT: 1 }, by_type: { buy: 2, sell: 1 } }]
    })
    const [stored] = (await hub.core.me.reports(limited.ctx)).data
    expect(stored.content).toMatchObject({ total: 1, strategies: [{ by_symbol: { MSFT: 1 } }] })

    const again = await hub.core.jobs.run('reports', { now })
    expect(again.counts).toEqual({ stored: 0, skipped: 2 })
    expect((await hub.core.me.reports(reader.ctx)).data).toHaveLength(1)
    expect((await hub.core.me.reports(limited.ctx)).data).toHaveLength(1)
  })

  test('rotate-keys marks an old key expiring and notifies its owner, then revokes it after the grace period and closes its session', async () => {
    const user = await hub.user('holder', 'subscriber')
    await hub.database().models.ApiKey.update({ created_at: new Date(Date.now() - 91 * DAY) }, { where: { id: user.keyId }, silent: true })
    const { client, inbox } = await listen(user, `users/${user.id}/notices`)
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    const status = async (): Promise<string | undefined> => (await hub.core.apiKeys.list(cliContext(), user.id)).find((k) => k.id === user.keyId)?.status

    const marked = await hub.core.jobs.run('rotate-keys', { now: new Date() })
    expect(marked.counts).toEqual({ expiring: 1, revoked: 0 })
    expect(await status()).toBe('expiring')
    await waitFor(() => inbox.messages.some((m) => m.json().type === 'key_expiring'))
    await expect(hub.core.keys.verify(user.key)).resolves.toMatchObject({ userId: user.id })

    const revoked = await hub.core.jobs.run('rotate-keys', { now: new Date(Date.now() + 25 * 3_600_000) })
    expect(revoked.counts).toEqual({ expiring: 0, revoked: 1 })
    expect(await status()).toBe('revoked')
    await closed
    await expect(hub.core.keys.verify(user.key)).rejects.toMatchObject({ code: 'key_revoked' })
  })

  test('a failing job is counted in /metrics and audited, and the node keeps serving', async () => {
    await hub.database().sequelize.getQueryInterface().dropTable('reports')
    const owner = await hub.user('o2', 'publisher')
    const reader = await hub.user('r2', 'subscriber')
    await hub.strategy('s2', owner)
    await hub.subscribe(reader, 's2')
    await expect(hub.core.jobs.run('reports', { now: new Date() })).rejects.toThrow()
    const metrics = await (await fetch(`${hub.baseUrl}/metrics`)).text()
    expect(metrics).toMatch(/signalhub_job_runs_total\{job_name="reports",result="failed"\} 1/)
    expect(await hub.audit({ action: 'job.run', result: 'failed' })).toEqual([expect.objectContaining({ resource: 'job/reports' })])
    expect((await fetch(`${hub.baseUrl}/healthz`)).status).toBe(200)
  })
})
