import { Router } from 'express'
import type { Core } from '../../core/core'
import { listReportsQuerySchema, reportViewSchema } from '../../core/users/me-service'
import { pageSchema } from '../../core/pagination'
import { validate } from '../middleware/validate'
import { KEY_REQUIRED, problemResponses, registry } from '../openapi'
import type { ContextOf } from './management'

registry.registerPath({
  method: 'get', path: '/api/v1/reports', tags: ['me'], security: KEY_REQUIRED,
  summary: 'Reports produced for the caller, newest first (admins may pass user_id)',
  request: { query: listReportsQuerySchema },
  responses: { 200: { description: 'A page of reports', content: { 'application/json': { schema: pageSchema(reportViewSchema) } } }, ...problemResponses(403, 422) }
})

/** GET /reports. */
export function reportsRouter(core: Core, contextOf: ContextOf): Router {
  const { me } = core
  const router = Router()
  router.get('/reports', async (req, res) => {
    res.json(await me.reports(contextOf(req, res), validate(listReportsQuerySchema, req.query, 'invalid query')))
  })
  return router
}
