import type { Request, Response } from 'express'
import type { AuditEntry } from '../../core/audit/audit-trail'
import type { Core } from '../../core/core'
import { AppError } from '../../core/errors'
import type { Principal } from '../../core/principal'

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    /** What the bridge's middleware leaves on `res.locals` for the handlers after it. */
    interface Locals {
      /** Set by `requestId` on every request. */
      requestId: string
      /** Set by `authenticate` on every `/api/v1` request that reaches a handler. */
      principal?: Principal
      /** `baseUrl + route.path` of the matched route, kept for metrics and audit. */
      routeTemplate?: string
      /** The operation a handler performed, folded into the request's one access entry by `accessLog`. */
      operation?: AuditEntry
      /** The caller's address once `clientIp` has worked it out. */
      clientIp?: string | null
    }
  }
}

/**
 * The caller's address (`req.ip`, so X-Forwarded-For from a proxy trusted by TRUST_PROXY),
 * worked out once per request: Express parses the header and checks the proxies again
 * on every read of `req.ip`.
 */
export function clientIp(req: Request, res: Response): string | null {
  let ip = res.locals.clientIp
  if (ip === undefined) {
    ip = req.ip ?? null
    res.locals.clientIp = ip
  }
  return ip
}

/** The authenticated caller; throws `unauthenticated` on a route mounted outside `authenticate`. */
export function requirePrincipal(res: Response): Principal {
  const principal = res.locals.principal
  if (principal === undefined) throw new AppError('unauthenticated')
  return principal
}

/** The authenticated caller when it is an admin under the current policy; throws `forbidden` otherwise. */
export function requireAdmin(core: Core, res: Response): Principal {
  const principal = requirePrincipal(res)
  if (!core.policy.current.isAdmin(principal)) throw new AppError('forbidden', 'this operation is for administrators')
  return principal
}
