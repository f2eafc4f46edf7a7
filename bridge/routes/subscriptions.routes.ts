import { Router } from 'express'
import type { Core } from '../../core/core'
import { addSubscriptionSchema, listSubscriptionsQuerySchema, subscriptionViewSchema } from '../../core/subscriptions/subscription-schemas'
import { pageSchema } from '../../core/pagination'
import { validate } from '../middleware/validate'
import { KEY_REQUIRED, problemResponses, registry, z } from '../openapi'
import type { ContextOf } from './management'

const json = (schema: z.ZodType) => ({ 'application/json': { schema } })
const tags = ['subscriptions']

registry.registerPath({
  method: 'get', path: '/api/v1/subscriptions', tags, security: KEY_REQUIRED,
  summary: 'The caller\'s subscriptions; admins may pass user_id (or list all); a strategy\'s owner may pass strategy_id to list its subscribers',
  request: { query: listSubscriptionsQuerySchema },
  responses: { 200: { description: 'A page of subscriptions', content: json(pageSchema(subscriptionViewSchema)) }, ...problemResponses(403, 422) }
})
registry.registerPath({
  method: 'post', path: '/api/v1/subscriptions', tags, security: KEY_REQUIRED,
  summary: 'Subscribe: yourself to a public strategy (if your role may subscribe to it); the owner or an admin grants private ones and may subscribe others. An existing subscription is updated (200)',
  request: { body: { required: true, content: json(addSubscriptionSchema) } },
  responses: {
    201: { description: 'Created', content: json(subscriptionViewSchema) },
    200: { description: 'The existing subscription, updated and active', content: json(subscriptionViewSchema) },
    ...problemResponses(403, 404, 422)
  }
})
registry.registerPath({
  method: 'delete', path: '/api/v1/subscriptions/{id}', tags, security: KEY_REQUIRED,
  summary: 'End a subscription (its user, the strategy\'s owner or an admin); live MQTT subscriptions to it end at once',
  request: { params: z.object({ id: z.string() }) },
  responses: { 204: { description: 'Removed' }, ...problemResponses(403, 404) }
})

/** /subscriptions and /subscriptions/:id. */
export function subscriptionsRouter(core: Core, contextOf: ContextOf): Router {
  const { subscriptions } = core
  const router = Router()

  router.get('/subscriptions', async (req, res) => {
    res.json(await subscriptions.list(contextOf(req, res), validate(listSubscriptionsQuerySchema, req.query, 'invalid query')))
  })
  router.post('/subscriptions', async (req, res) => {
    const added = await subscriptions.add(contextOf(req, res), req.body)
    res.status(added.created ? 201 : 200).json(added.subscription)
  })
  router.delete('/subscriptions/:id', async (req, res) => {
    await subscriptions.remove(contextOf(req, res), req.params.id)
    res.status(204).end()
  })
  return router
}
