import type { Core } from './core'
import { AppError } from './errors'
import type { Principal } from './principal'

/**
 * Who performs a management operation and from where. REST builds it from the
 * request; the CLI acts as the operator at the shell (`cliContext`).
 */
export interface ActionContext {
  principal: Principal
  ip?: string | null
  requestId?: string | null
}

/** The shell operator: an admin by role, with no user row and no key. */
export function cliContext(name = 'cli'): ActionContext {
  return { principal: { userId: 0, userName: name, role: 'admin', keyId: null, keyPrefix: null } }
}

export function isAdmin(core: Core, ctx: ActionContext): boolean {
  return core.policy.current.isAdmin(ctx.principal)
}

export function assertAdmin(core: Core, ctx: ActionContext): void {
  if (!isAdmin(core, ctx)) throw new AppError('forbidden', 'this operation needs the admin permission')
}

/** Admins may act on anyone; others only on themselves. */
export function assertSelfOrAdmin(core: Core, ctx: ActionContext, userId: number): void {
  if (ctx.principal.userId !== userId && !isAdmin(core, ctx)) throw new AppError('forbidden', 'only an admin may act on another user')
}

/** Records a management operation in the audit trail; `detail` is a summary and never holds a secret. */
export function recordOperation(core: Core, ctx: ActionContext, action: string, resource: string, detail: Record<string, unknown> = {}): void {
  core.audit.record({
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
export async function applyPolicyChange(core: Core): Promise<void> {
  core.bus.announce({ kind: 'policy' })
  await core.policy.reload()
}

/** A numeric id from a path or flag, or a 404. */
export function parseId(value: string | number, what: string): number {
  const id = typeof value === 'number' ? value : /^\d{1,15}$/.test(value) ? Number(value) : NaN
  if (!Number.isSafeInteger(id) || id <= 0) throw new AppError('not_found', `${what} ${String(value)} not found`)
  return id
}
