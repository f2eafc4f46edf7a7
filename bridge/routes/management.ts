import { Router, type Request, type Response } from 'express'
import type { Core } from '../../core/core'
import type { ActionContext } from '../../core/action-context'
import { clientIp, requirePrincipal } from '../middleware/request-locals'
import { auditLogsRouter } from './audit-logs.routes'
import { keysRouter } from './keys.routes'
import { meRouter } from './me.routes'
import { reportsRouter } from './reports.routes'
import { rolesRouter } from './roles.routes'
import { strategiesRouter } from './strategies.routes'
import { subscriptionsRouter } from './subscriptions.routes'
import { usersRouter } from './users.routes'

/** The caller of a management route and where the request came from, for the core services and their audit entries. */
export type ContextOf = (req: Request, res: Response) => ActionContext

const contextOf: ContextOf = (req, res) => ({ principal: requirePrincipal(res), ip: clientIp(req, res), requestId: res.locals.requestId })

/**
 * Strategies, subscriptions, users, keys, roles and permissions, audit logs, reports
 * and `me`, mounted at /api/v1 after authentication. Each route calls one core
 * service method, which checks who may do what, validates, audits and announces.
 */
export function managementRouter(core: Core): Router {
  const router = Router()
  router.use(meRouter(core, contextOf))
  router.use(keysRouter(core, contextOf))
  router.use(usersRouter(core, contextOf))
  router.use(strategiesRouter(core, contextOf))
  router.use(subscriptionsRouter(core, contextOf))
  router.use(rolesRouter(core, contextOf))
  router.use(auditLogsRouter(core, contextOf))
  router.use(reportsRouter(core, contextOf))
  return router
}
