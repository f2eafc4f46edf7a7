import { Router } from 'express'
import type { Core } from '../../core/core'
import { keyViewSchema } from '../../core/users/key-management'
import { subscriptionViewSchema } from '../../core/subscriptions/subscription-schemas'
import { userViewSchema } from '../../core/users/user-schemas'
import { KEY_REQUIRED, problemResponses, registry, z } from '../openapi'
import type { ContextOf } from './management'

const meSchema = z.object({
  user: userViewSchema,
  keys: z.array(keyViewSchema),
  subscriptions: z.array(subscriptionViewSchema),
  notices: z.array(z.object({ kind: z.literal('key_expiring'), key_id: z.number().int(), prefix: z.string(), expires_at: z.string().nullable(), message: z.string() }))
})
const tags = ['me']

registry.registerPath({
  method: 'get', path: '/api/v1/me', tags, security: KEY_REQUIRED, summary: 'The caller: profile, keys (no secrets), subscriptions, notices about expiring keys',
  responses: { 200: { description: 'Profile', content: { 'application/json': { schema: meSchema } } }, ...problemResponses() }
})
registry.registerPath({
  method: 'get', path: '/api/v1/me/export', tags, security: KEY_REQUIRED,
  summary: 'Everything held about the caller as one JSON document: profile, keys, subscriptions, strategies, permissions, client ids, reports, audit entries',
  responses: { 200: { description: 'The export (served as an attachment)', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } }, ...problemResponses() }
})
registry.registerPath({
  method: 'delete', path: '/api/v1/me', tags, security: KEY_REQUIRED,
  summary: 'Erase the caller: keys, subscriptions, permissions, client ids and reports are deleted, audit entries pseudonymised. 409 while it owns strategies',
  responses: { 204: { description: 'Erased' }, ...problemResponses(409) }
})

/** /me, /me/export and erasure. */
export function meRouter(core: Core, contextOf: ContextOf): Router {
  const { me } = core
  const router = Router()

  router.get('/me', async (req, res) => {
    res.json(await me.profile(contextOf(req, res)))
  })
  router.get('/me/export', async (req, res) => {
    const data = await me.export(contextOf(req, res))
    res.setHeader('Content-Disposition', `attachment; filename="signal-hub-export-${data.user.id}.json"`)
    res.setHeader('Cache-Control', 'no-store')
    res.json(data)
  })
  router.delete('/me', async (req, res) => {
    await me.erase(contextOf(req, res))
    // the access log must not tie this request back to the erased person
    res.locals.principal = undefined
    res.status(204).end()
  })
  return router
}
