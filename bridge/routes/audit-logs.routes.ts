import { Router } from 'express'
import { auditEntryViewSchema, auditQuerySchema } from '../../core/audit/audit-query'
import type { Core } from '../../core/core'
import { pageSchema } from '../../core/pagination'
import { validate } from '../middleware/validate'
import { KEY_REQUIRED, problemResponses, registry } from '../openapi'
import type { ContextOf } from './management'

registry.registerPath({
  method: 'get', path: '/api/v1/audit-logs', tags: ['audit'], security: KEY_REQUIRED,
  summary: 'Audit entries, newest first, by user, action, result and time (admin)',
  request: { query: auditQuerySchema },
  responses: { 200: { description: 'A page of entries', content: { 'application/json': { schema: pageSchema(auditEntryViewSchema) } } }, ...problemResponses(403, 422) }
})

/** GET /audit-logs. */
export function auditLogsRouter(core: Core, contextOf: ContextOf): Router {
  const router = Router()
  router.get('/audit-logs', async (req, res) => {
    const ctx = contextOf(req, res)
    res.json(await core.auditLog.query(ctx, validate(auditQuerySchema, req.query, 'invalid query')))
  })
  return router
}
