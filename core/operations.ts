import type { AuditTrail } from './audit/audit-trail'
import type { ChangeBus } from './change-bus'
import { AppError } from './errors'
import type { ActionContext } from './action-context'
import type { PolicyStore } from './policy/policy-store'

/**
 * What every management operation shares: who may do it (the one policy), the audit
 * entry it leaves, and telling this node and the others that access changed. Built once
 * in `createCore` and given to each management service.
 */
export class Operations {
  constructor(readonly policy: PolicyStore, readonly audit: AuditTrail, readonly bus: ChangeBus, readonly now: () => Date) {}

  isAdmin(ctx: ActionContext): boolean {
    return this.policy.current.isAdmin(ctx.principal)
  }

  assertAdmin(ctx: ActionContext): void {
    if (!this.isAdmin(ctx)) throw new AppError('forbidden', 'this operation needs the admin permission')
  }

  /** Admins may act on anyone; others only on themselves. */
  assertSelfOrAdmin(ctx: ActionContext, userId: number): void {
    if (ctx.principal.userId !== userId && !this.isAdmin(ctx)) throw new AppError('forbidden', 'only an admin may act on another user')
  }

  /** Records a management operation in the audit trail; `detail` is a summary and never holds a secret. */
  record(ctx: ActionContext, action: string, resource: string, detail: Record<string, unknown> = {}): void {
    this.audit.record({
      action,
      result: 'ok',
      userId: ctx.principal.userId > 0 ? ctx.principal.userId : null,
      actor: ctx.principal.userName,
      resource,
      ip: ctx.ip ?? null,
      requestId: ctx.requestId ?? null,
      detail
    })
  }

  /** Makes a change to strategies, subscriptions or permissions effective on this node before returning, and tells the others. */
  async applyPolicyChange(): Promise<void> {
    this.bus.announce({ kind: 'policy' })
    await this.policy.reload()
  }
}
