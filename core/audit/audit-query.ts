import { z } from 'zod'
import { Op, type WhereOptions } from 'sequelize'
import type { AuditLog } from '../../models/audit-log.model'
import type { Database } from '../../models/database'
import type { Operations } from '../operations'
import type { ActionContext } from '../action-context'
import { decodeNumericCursor, pageLimit, pageQuerySchema, toPage, type Page } from '../pagination'
import { parseInput } from '../parse-input'

export const auditQuerySchema = pageQuerySchema.extend({
  user_id: z.coerce.number().int().positive().optional(),
  action: z.string().min(1).max(64).optional(),
  result: z.enum(['ok', 'denied', 'failed']).optional(),
  from: z.iso.datetime({ offset: true }).optional().describe('inclusive, ISO-8601 with offset'),
  to: z.iso.datetime({ offset: true }).optional().describe('exclusive, ISO-8601 with offset')
})

export const auditEntryViewSchema = z.object({
  id: z.number().int(),
  at: z.string(),
  user_id: z.number().int().nullable(),
  actor: z.string().nullable(),
  action: z.string(),
  resource: z.string().nullable(),
  result: z.enum(['ok', 'denied', 'failed']),
  ip: z.string().nullable(),
  client_id: z.string().nullable(),
  request_id: z.string().nullable(),
  detail: z.unknown().nullable()
})

export type AuditQuery = z.input<typeof auditQuerySchema>
export type AuditEntryView = z.infer<typeof auditEntryViewSchema>

function parseDetail(text: string | null): unknown {
  if (text === null) return null
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export function toAuditEntryView(a: AuditLog): AuditEntryView {
  return {
    id: Number(a.id),
    at: a.at.toISOString(),
    user_id: a.user_id === null ? null : Number(a.user_id),
    actor: a.actor,
    action: a.action,
    resource: a.resource,
    result: a.result,
    ip: a.ip,
    client_id: a.client_id,
    request_id: a.request_id,
    detail: parseDetail(a.detail)
  }
}

/**
 * The audit table for admins: filter by user, action, result and time (`from`
 * inclusive, `to` exclusive), newest first, as a page keyed by id. Buffered entries are
 * written first, so an operation is visible to the query that follows it.
 */
export class AuditLogQuery {
  constructor(private readonly db: Database, private readonly ops: Operations) {}

  async query(ctx: ActionContext, query: AuditQuery = {}): Promise<Page<AuditEntryView>> {
    this.ops.assertAdmin(ctx)
    const q = parseInput(auditQuerySchema, query)
    const where: WhereOptions<AuditLog>[] = []
    if (q.user_id !== undefined) where.push({ user_id: q.user_id })
    if (q.action !== undefined) where.push({ action: q.action })
    if (q.result !== undefined) where.push({ result: q.result })
    if (q.from !== undefined) where.push({ at: { [Op.gte]: new Date(q.from) } })
    if (q.to !== undefined) where.push({ at: { [Op.lt]: new Date(q.to) } })
    if (q.cursor !== undefined) {
      const before = decodeNumericCursor(q.cursor)
      if (before !== undefined) where.push({ id: { [Op.lt]: before } })
    }
    await this.ops.audit.flush()
    const limit = pageLimit(q)
    const rows = await this.db.models.AuditLog.findAll({ where: { [Op.and]: where }, order: [['id', 'DESC']], limit: limit + 1 })
    return toPage(rows, limit, (a) => Number(a.id), toAuditEntryView)
  }
}
