import { Router } from 'express'
import type { Core } from '../../core/core'
import { pageSchema } from '../../core/pagination'
import { createUserSchema, listUsersQuerySchema, updateUserSchema, userViewSchema } from '../../core/users/user-schemas'
import { validate } from '../middleware/validate'
import { KEY_REQUIRED, problemResponses, registry, z } from '../openapi'
import type { ContextOf } from './management'

const idParam = z.object({ id: z.string().describe('user id') })
const json = (schema: z.ZodType) => ({ 'application/json': { schema } })
const tags = ['users']

registry.registerPath({
  method: 'get', path: '/api/v1/users', tags, security: KEY_REQUIRED, summary: 'List users (admin)',
  request: { query: listUsersQuerySchema },
  responses: { 200: { description: 'A page of users', content: json(pageSchema(userViewSchema)) }, ...problemResponses(403, 422) }
})
registry.registerPath({
  method: 'post', path: '/api/v1/users', tags, security: KEY_REQUIRED, summary: 'Create a user (admin); create a key for it with POST /users/{id}/keys',
  request: { body: { required: true, content: json(createUserSchema) } },
  responses: { 201: { description: 'The user', content: json(userViewSchema) }, ...problemResponses(403, 409, 422) }
})
registry.registerPath({
  method: 'get', path: '/api/v1/users/{id}', tags, security: KEY_REQUIRED, summary: 'A user (admin, or the user itself)',
  request: { params: idParam },
  responses: { 200: { description: 'The user', content: json(userViewSchema) }, ...problemResponses(403, 404) }
})
registry.registerPath({
  method: 'patch', path: '/api/v1/users/{id}', tags, security: KEY_REQUIRED,
  summary: 'Change a user (admin); `{"status":"disabled"}` stops its keys at once on REST and MQTT',
  request: { params: idParam, body: { required: true, content: json(updateUserSchema) } },
  responses: { 200: { description: 'The user', content: json(userViewSchema) }, ...problemResponses(403, 404, 409, 422) }
})
registry.registerPath({
  method: 'delete', path: '/api/v1/users/{id}', tags, security: KEY_REQUIRED,
  summary: 'Erase a user (admin): keys, subscriptions, permissions, bindings and reports go; audit rows are pseudonymised. 409 while it owns strategies',
  request: { params: idParam },
  responses: { 204: { description: 'Erased' }, ...problemResponses(403, 404, 409) }
})

/** /users and /users/:id. */
export function usersRouter(core: Core, contextOf: ContextOf): Router {
  const { users } = core
  const router = Router()

  router.get('/users', async (req, res) => {
    res.json(await users.list(contextOf(req, res), validate(listUsersQuerySchema, req.query, 'invalid query')))
  })
  router.post('/users', async (req, res) => {
    res.status(201).json(await users.create(contextOf(req, res), req.body))
  })
  router.get('/users/:id', async (req, res) => {
    const ctx = contextOf(req, res)
    res.json(await users.get(ctx, req.params.id === 'me' ? ctx.principal.userId : req.params.id))
  })
  router.patch('/users/:id', async (req, res) => {
    res.json(await users.update(contextOf(req, res), req.params.id, req.body))
  })
  router.delete('/users/:id', async (req, res) => {
    await users.delete(contextOf(req, res), req.params.id)
    res.status(204).end()
  })
  return router
}
