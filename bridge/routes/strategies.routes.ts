import { Router } from 'express'
import type { Core } from '../../core/core'
import {
  createStrategySchema, deleteStrategyQuerySchema, listStrategiesQuerySchema, strategyViewSchema, updateStrategySchema
} from '../../core/strategies/strategy-schemas'
import { pageSchema } from '../../core/pagination'
import { validate } from '../middleware/validate'
import { KEY_REQUIRED, problemResponses, registry, z } from '../openapi'
import type { ContextOf } from './management'

const idParam = z.object({ id: z.string().describe('strategy id') })
const json = (schema: z.ZodType) => ({ 'application/json': { schema } })
const tags = ['strategies']

registry.registerPath({
  method: 'get', path: '/api/v1/strategies', tags, security: KEY_REQUIRED,
  summary: 'Strategies the caller may see: public ones, its own and those it subscribes to (admins: all), by id',
  request: { query: listStrategiesQuerySchema },
  responses: { 200: { description: 'A page of strategies', content: json(pageSchema(strategyViewSchema)) }, ...problemResponses(422) }
})
registry.registerPath({
  method: 'post', path: '/api/v1/strategies', tags, security: KEY_REQUIRED,
  summary: 'Create a strategy: publishers own what they create; admins may name another owner',
  request: { body: { required: true, content: json(createStrategySchema) } },
  responses: { 201: { description: 'The strategy', content: json(strategyViewSchema) }, ...problemResponses(403, 409, 422) }
})
registry.registerPath({
  method: 'get', path: '/api/v1/strategies/{id}', tags, security: KEY_REQUIRED,
  summary: 'A strategy (404 for a private one the caller neither owns nor subscribes to)',
  request: { params: idParam },
  responses: { 200: { description: 'The strategy', content: json(strategyViewSchema) }, ...problemResponses(404) }
})
registry.registerPath({
  method: 'patch', path: '/api/v1/strategies/{id}', tags, security: KEY_REQUIRED, summary: 'Change a strategy (owner or admin; only an admin changes the owner)',
  request: { params: idParam, body: { required: true, content: json(updateStrategySchema) } },
  responses: { 200: { description: 'The strategy', content: json(strategyViewSchema) }, ...problemResponses(403, 404, 422) }
})
registry.registerPath({
  method: 'delete', path: '/api/v1/strategies/{id}', tags, security: KEY_REQUIRED,
  summary: 'Delete a strategy (owner or admin); one with signals needs `force=true`, which deletes its signals and subscriptions too',
  request: { params: idParam, query: deleteStrategyQuerySchema },
  responses: { 204: { description: 'Deleted' }, ...problemResponses(403, 404, 409, 422) }
})

/** /strategies and /strategies/:id. */
export function strategiesRouter(core: Core, contextOf: ContextOf): Router {
  const { strategies } = core
  const router = Router()

  router.get('/strategies', async (req, res) => {
    res.json(await strategies.list(contextOf(req, res), validate(listStrategiesQuerySchema, req.query, 'invalid query')))
  })
  router.post('/strategies', async (req, res) => {
    res.status(201).json(await strategies.create(contextOf(req, res), req.body))
  })
  router.get('/strategies/:id', async (req, res) => {
    res.json(await strategies.get(contextOf(req, res), req.params.id))
  })
  router.patch('/strategies/:id', async (req, res) => {
    res.json(await strategies.update(contextOf(req, res), req.params.id, req.body))
  })
  router.delete('/strategies/:id', async (req, res) => {
    const { force } = validate(deleteStrategyQuerySchema, req.query, 'invalid query')
    await strategies.delete(contextOf(req, res), req.params.id, { force })
    res.status(204).end()
  })
  return router
}
