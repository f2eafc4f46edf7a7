import { Op } from 'sequelize'
import type { JobContext, JobDeps, JobResult } from './job'

const BATCH = 5000
const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000

/**
 * Deletes audit-log rows older than LOG_RETENTION_DAYS, and idempotency records past
 * their 24-hour window. Rows go in batches of 5,000 by primary key, so no statement
 * holds locks on a large table for long.
 */
export async function cleanupLogs(deps: JobDeps, { now, progress }: JobContext): Promise<JobResult> {
  const { AuditLog, IdempotencyKey } = deps.db.models
  const cutoff = new Date(now.getTime() - deps.config.LOG_RETENTION_DAYS * 86_400_000)
  let audit = 0
  for (;;) {
    const ids = (await AuditLog.findAll({ attributes: ['id'], where: { at: { [Op.lt]: cutoff } }, order: [['id', 'ASC']], limit: BATCH })).map((r) => r.id)
    if (ids.length === 0) break
    audit += await AuditLog.destroy({ where: { id: ids } })
    progress(`audit rows deleted: ${audit}`)
  }
  const idempotency = await IdempotencyKey.destroy({ where: { created_at: { [Op.lt]: new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS) } } })
  return {
    summary: `deleted ${audit} audit rows older than ${cutoff.toISOString()} and ${idempotency} expired idempotency records`,
    counts: { audit_deleted: audit, idempotency_deleted: idempotency }
  }
}
