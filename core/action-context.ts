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

/** A numeric id from a path or flag, or a 404. */
export function parseId(value: string | number, what: string): number {
  const id = typeof value === 'number' ? value : /^\d{1,15}$/.test(value) ? Number(value) : NaN
  if (!Number.isSafeInteger(id) || id <= 0) throw new AppError('not_found', `${what} ${String(value)} not found`)
  return id
}
