import mqtt, { type MqttClient } from 'mqtt'
import { previousDay } from '../../../../core/jobs/reports'
import { runJob } from '../../../../core/jobs/scheduler'
import { startTestHub, type TestHub, type TestUser } from '../../../helpers/hub'

const DAY = 86_400_000

describe('scheduled jobs', () => {
  let hub: TestHub
  let clients: MqttClient[] = []

  beforeEach(async () => {
    hub = await startTestHub({ LOG_RETENTION_DAYS: '30', KEY_MAX_AGE_DAYS: '90', KEY_GRACE_HOURS: '24', TZ_DEFAULT: 'Asia/Shanghai' })
  })

  afterEach(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)))
    clients = []
    await hub.shutdown()
  })

  async function listen(user: TestUser, topic: string): Promise<{ client: MqttClient, messages: Array<Record<string, unknown>> }> {
    const client = await mqtt.connectAsync(hub.mqttUrl, { username: user.name, password: user.key, clientId: `${user.name}-${Math.random().toString(36).slice(2, 8)}`, reconnectPeriod: 0 })
    clients.push(client)
    const messages: Array<Record<string, unknown>> = []
    client.on('message', (_t, payload) => messages.push(JSON.parse(payload.toString()) as Record<string, unknown>))
    await client.subscribeAsync(topic, { qos: 1 })
    return { client, messages }
  }

  async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
    const end = Date.now() + ms
    while (!(await check())) {
      if (Date.now() > end) throw new Error('condition not met in time')
      await new Promise((r) => setTimeout(r, 25))
    }
  }

  test('cleanup-logs deletes audit rows past retention in batches and keeps the recent ones', async () => {
    const { AuditLog } = hub.core.db.models
    await hub.core.audit.flush()
    const now = new Date('2026-11-21T12:00:00Z')
    const old = Array.from({ length: 5200 }, (_, i) => ({ at: new Date(now.getTime() - 31 * DAY - i), action: 'test.old', result: 'ok' as const, user_id: null, actor: null, resource: null, ip: null, client_id: null, request_id: null, detail: null }))
    await AuditLog.bulkCreate(old)
    await AuditLog.create({ at: new Date(now.getTime() - 29 * DAY), action: 'test.recent', result: 'ok', user_id: null, actor: null, resource: null, ip: null, client_id: null, request_id: null, detail: null })
    const progress: string[] = []
    const result = await runJob(hub.core, 'cleanup-logs', { now, progress: (m) => progress.push(m) })
    expect(result.counts.audit_deleted).toBe(5200)
    expect(progress.length).toBeGreaterThanOrEqual(2)
    expect(await AuditLog.count({ where: { action: 'test.old' } })).toBe(0)
    expect(await AuditLog.count({ where: { action: 'test.recent' } })).toBe(1)
  })

  test('reports stores one daily report per subscriber, publishes it on users/<id>/reports, and a re-run adds nothing', async () => {
    const owner = await hub.user('owner', 'publisher')
    const reader = await hub.user('reader', 'subscriber')
    const limited = await hub.user('limited', 'subscriber')
    await hub.strategy('trend', owner)
    await hub.subscribe(reader, 'trend')
    await hub.subscribe(limited, 'trend', ['MSFT'])
    const now = new Date('2026-11-21T03:00:00Z')
    const { start } = previousDay(now, 'Asia/Shanghai')
    expect(start.toISOString()).toBe('2026-11-19T16:00:00.000Z')
    const { Signal } = hub.core.db.models
    const at = (h: number) => new Date(start.getTime() + h * 3_600_000)
    const rows = [['AAPL', 'buy', at(1)], ['AAPL', 'sell', at(2)], ['MSFT', 'buy', at(3)], ['MSFT', 'buy', at(30)]] as const
    await Signal.bulkCreate(rows.map(([symbol, type, when], i) => ({ strategy_id: 'trend', seq: i + 1, symbol, type, execute_date: when, description: '', payload: null, publisher_id: owner.id, idempotency_key: null, created_at: when })))
    const inbox = await listen(reader, `users/${reader.id}/reports`)

    const first = await runJob(hub.core, 'reports', { now })
    expect(first.counts).toEqual({ stored: 2, skipped: 0 })
    await until(() => inbox.messages.length === 1)
    expect(inbox.messages[0]).toMatchObject({ type: 'report', period: 'daily', total: 3, strategies: [{ strategy_id: 'trend', total: 3, by_symbol: { AAPL: 2, MSFT: 1 }, by_type: { buy: 2, sell: 1 } }] })
    const stored = await hub.core.db.models.Report.findOne({ where: { user_id: limited.id } })
    expect(JSON.parse(stored?.content ?? '{}')).toMatchObject({ total: 1, strategies: [{ by_symbol: { MSFT: 1 } }] })

    const again = await runJob(hub.core, 'reports', { now })
    expect(again.counts).toEqual({ stored: 0, skipped: 2 })
    expect(await hub.core.db.models.Report.count()).toBe(2)
  })

  test('rotate-keys marks an old key expiring and notifies its owner, then revokes it after the grace period and closes its session', async () => {
    const user = await hub.user('holder', 'subscriber')
    const { ApiKey } = hub.core.db.models
    const created = new Date(Date.now() - 91 * DAY)
    await ApiKey.update({ created_at: created }, { where: { id: user.keyId }, silent: true })
    const inbox = await listen(user, `users/${user.id}/notices`)
    const closed = new Promise<void>((resolve) => inbox.client.once('close', () => resolve()))

    const marked = await runJob(hub.core, 'rotate-keys', { now: new Date() })
    expect(marked.counts).toEqual({ expiring: 1, revoked: 0 })
    expect((await ApiKey.findByPk(user.keyId))?.status).toBe('expiring')
    await until(() => inbox.messages.some((m) => m.type === 'key_expiring'))
    await expect(hub.core.keys.verify(user.key)).resolves.toMatchObject({ userId: user.id })

    const revoked = await runJob(hub.core, 'rotate-keys', { now: new Date(Date.now() + 25 * 3_600_000) })
    expect(revoked.counts).toEqual({ expiring: 0, revoked: 1 })
    expect((await ApiKey.findByPk(user.keyId))?.status).toBe('revoked')
    await closed
    await expect(hub.core.keys.verify(user.key)).rejects.toMatchObject({ code: 'key_revoked' })
  })

  test('a failing job is counted in /metrics and audited, and the node keeps serving', async () => {
    await hub.core.db.sequelize.getQueryInterface().dropTable('reports')
    const owner = await hub.user('o2', 'publisher')
    const reader = await hub.user('r2', 'subscriber')
    await hub.strategy('s2', owner)
    await hub.subscribe(reader, 's2')
    await expect(runJob(hub.core, 'reports', { now: new Date() })).rejects.toThrow()
    const metrics = await (await fetch(`${hub.baseUrl}/metrics`)).text()
    expect(metrics).toMatch(/signalhub_job_runs_total\{job_name="reports",result="failed"\} 1/)
    expect((await fetch(`${hub.baseUrl}/healthz`)).status).toBe(200)
  })
})
