import { z } from 'zod'
import type { Report } from '../../models/report.model'
import { Op } from 'sequelize'
import type { KeyView } from '../auth/key-service'
import { toAuditEntryView, type AuditEntryView } from '../audit/audit-query'
import type { Database } from '../../models/database'
import type { KeyService } from '../auth/key-service'
import type { Operations } from '../operations'
import { AppError } from '../errors'
import type { PermissionView } from '../permissions/permission-schemas'
import { toStrategyView } from '../strategies/strategy-service'
import type { StrategyView } from '../strategies/strategy-schemas'
import { toSubscriptionView } from '../subscriptions/subscription-service'
import type { SubscriptionView } from '../subscriptions/subscription-schemas'
import type { ActionContext } from '../action-context'
import { toClientBindingView, type ClientBindingView } from './client-binding-service'
import { eraseUserData } from './erase-user'
import { decodeNumericCursor, pageLimit, pageQuerySchema, toPage, type Page } from '../pagination'
import { parseInput } from '../parse-input'
import { toUserView } from './user-service'
import type { UserView } from './user-schemas'

export const listReportsQuerySchema = pageQuerySchema.extend({
  user_id: z.coerce.number().int().positive().optional().describe('admins only; defaults to the caller'),
  period: z.string().min(1).max(16).optional()
})

export const reportViewSchema = z.object({
  id: z.number().int(),
  user_id: z.number().int(),
  period: z.string(),
  period_start: z.string(),
  period_end: z.string(),
  content: z.unknown(),
  created_at: z.string()
})

export type ListReportsQuery = z.input<typeof listReportsQuerySchema>
export type ReportView = z.infer<typeof reportViewSchema>

export interface Notice {
  kind: 'key_expiring'
  key_id: number
  prefix: string
  expires_at: string | null
  message: string
}

export interface MeView {
  user: UserView
  keys: KeyView[]
  subscriptions: SubscriptionView[]
  notices: Notice[]
}

export interface MeExport extends MeView {
  exported_at: string
  strategies: StrategyView[]
  permissions: PermissionView[]
  client_bindings: ClientBindingView[]
  reports: ReportView[]
  audit_logs: AuditEntryView[]
}

export function toReportView(r: Report): ReportView {
  let content: unknown
  try {
    content = JSON.parse(r.content)
  } catch {
    content = r.content
  }
  return {
    id: r.id,
    user_id: Number(r.user_id),
    period: r.period,
    period_start: r.period_start.toISOString(),
    period_end: r.period_end.toISOString(),
    content,
    created_at: r.created_at.toISOString()
  }
}

/** The caller's own view of Signal Hub: profile, reports, a full export, and erasure. */
export class MeService {
  constructor(private readonly db: Database, private readonly keys: KeyService, private readonly ops: Operations) {}

  async profile(ctx: ActionContext): Promise<MeView> {
    const user = await this.self(ctx)
    const keys = await this.keys.list(user.id)
    const subscriptions = await this.db.models.Subscription.findAll({ where: { user_id: user.id }, order: [['id', 'ASC']] })
    const notices: Notice[] = keys.filter((k) => k.status === 'expiring').map((k) => ({
      kind: 'key_expiring',
      key_id: k.id,
      prefix: k.prefix,
      expires_at: k.expires_at,
      message: `key ${k.prefix} stops working at ${k.expires_at ?? 'its deadline'}; create or rotate to a new key`
    }))
    return { user: toUserView(user), keys, subscriptions: subscriptions.map(toSubscriptionView), notices }
  }

  /** Reports produced for the caller (an admin may name another user), newest first. */
  async reports(ctx: ActionContext, query: ListReportsQuery = {}): Promise<Page<ReportView>> {
    const q = parseInput(listReportsQuerySchema, query)
    const userId = q.user_id ?? ctx.principal.userId
    this.ops.assertSelfOrAdmin(ctx, userId)
    const before = decodeNumericCursor(q.cursor)
    const limit = pageLimit(q)
    const rows = await this.db.models.Report.findAll({
      where: { user_id: userId, ...(q.period !== undefined ? { period: q.period } : {}), ...(before !== undefined ? { id: { [Op.lt]: before } } : {}) },
      order: [['id', 'DESC']],
      limit: limit + 1
    })
    return toPage(rows, limit, (r) => r.id, toReportView)
  }

  /** Everything held about the caller, as one JSON document (no key hashes, no secrets). */
  async export(ctx: ActionContext): Promise<MeExport> {
    const me = await this.profile(ctx)
    const userId = me.user.id
    const { Strategy, Permission, ClientBinding, Report, AuditLog } = this.db.models
    await this.ops.audit.flush()
    const [strategies, permissions, bindings, reports, audit] = await Promise.all([
      Strategy.findAll({ where: { owner_id: userId }, order: [['id', 'ASC']] }),
      Permission.findAll({ where: { user_id: userId }, order: [['id', 'ASC']] }),
      ClientBinding.findAll({ where: { user_id: userId }, order: [['client_id', 'ASC']] }),
      Report.findAll({ where: { user_id: userId }, order: [['id', 'ASC']] }),
      AuditLog.findAll({ where: { user_id: userId }, order: [['id', 'ASC']] })
    ])
    return {
      exported_at: this.ops.now().toISOString(),
      ...me,
      strategies: strategies.map(toStrategyView),
      permissions: permissions.map((p) => ({
        id: p.id, role: null, user_id: userId, action: p.action, topic: p.topic, effect: p.effect, created_at: p.created_at.toISOString()
      })),
      client_bindings: bindings.map(toClientBindingView),
      reports: reports.map(toReportView),
      audit_logs: audit.map(toAuditEntryView)
    }
  }

  /** Erases the caller (see `eraseUserData`); refused while they own strategies or are the last admin. */
  async erase(ctx: ActionContext): Promise<void> {
    const user = await this.self(ctx)
    if (user.role === 'admin' && user.status === 'active') {
      const others = await this.db.models.User.count({ where: { role: 'admin', status: 'active', id: { [Op.ne]: user.id } } })
      if (others === 0) throw new AppError('conflict', 'the last active admin cannot erase itself')
    }
    await eraseUserData(this.db, this.ops, ctx, user)
  }

  private async self(ctx: ActionContext) {
    const user = await this.db.models.User.findByPk(ctx.principal.userId)
    if (user === null) throw new AppError('not_found', 'no user behind this key')
    return user
  }
}
