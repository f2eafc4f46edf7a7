import { Router } from 'express'
import type { Core } from '../../core/core'
import { clientBindingViewSchema } from '../../core/users/client-binding-service'
import { createKeySchema, issuedKeySchema, keyViewSchema } from '../../core/users/key-management'
import type { ActionContext } from '../../core/action-context'
import { KEY_REQUIRED, problemResponses, registry, z } from '../openapi'
import type { ContextOf } from './management'

const userParam = z.object({ id: z.string().describe('user id, or `me`') })
const keyParam = z.object({ id: z.string().describe('key id') })
const json = (schema: z.ZodType) => ({ 'application/json': { schema } })
const tags = ['keys']

registry.registerPath({
  method: 'post', path: '/api/v1/users/{id}/keys', tags, security: KEY_REQUIRED,
  summary: 'Create an API key (admin, or the user itself via `me`); the key is shown only in this response',
  request: { params: userParam, body: { required: false, content: json(createKeySchema) } },
  responses: { 201: { description: 'The new key', content: json(issuedKeySchema) }, ...problemResponses(403, 404, 422) }
})
registry.registerPath({
  method: 'get', path: '/api/v1/users/{id}/keys', tags, security: KEY_REQUIRED, summary: 'A user\'s keys, without secrets (admin, or the user itself)',
  request: { params: userParam },
  responses: { 200: { description: 'Keys', content: json(z.object({ data: z.array(keyViewSchema) })) }, ...problemResponses(403, 404) }
})
registry.registerPath({
  method: 'post', path: '/api/v1/keys/{id}/rotate', tags, security: KEY_REQUIRED,
  summary: 'Issue a new key for the same user; the old one keeps working for KEY_GRACE_HOURS (owner or admin)',
  request: { params: keyParam },
  responses: { 201: { description: 'The new key and the old one', content: json(issuedKeySchema.extend({ previous: keyViewSchema })) }, ...problemResponses(403, 404, 409) }
})
registry.registerPath({
  method: 'post', path: '/api/v1/keys/{id}/revoke', tags, security: KEY_REQUIRED,
  summary: 'Revoke a key at once: REST refuses it and MQTT sessions using it are closed, on every node (owner or admin)',
  request: { params: keyParam },
  responses: { 200: { description: 'The revoked key', content: json(keyViewSchema) }, ...problemResponses(403, 404) }
})
registry.registerPath({
  method: 'get', path: '/api/v1/users/{id}/client-bindings', tags: ['client bindings'], security: KEY_REQUIRED,
  summary: 'MQTT client ids bound to a user (admin, or the user itself)',
  request: { params: userParam },
  responses: { 200: { description: 'Bindings', content: json(z.object({ data: z.array(clientBindingViewSchema) })) }, ...problemResponses(403, 404) }
})
registry.registerPath({
  method: 'delete', path: '/api/v1/client-bindings/{clientId}', tags: ['client bindings'], security: KEY_REQUIRED,
  summary: 'Release an MQTT client id so another user may claim it; its live session is closed (admin)',
  request: { params: z.object({ clientId: z.string() }) },
  responses: { 204: { description: 'Released' }, ...problemResponses(403, 404) }
})

function userOf(ctx: ActionContext, param: string): number | string {
  return param === 'me' ? ctx.principal.userId : param
}

/** API keys of users, and MQTT client-id bindings. */
export function keysRouter(core: Core, contextOf: ContextOf): Router {
  const { apiKeys: keys, clientBindings: bindings } = core
  const router = Router()

  router.post('/users/:id/keys', async (req, res) => {
    const ctx = contextOf(req, res)
    res.status(201).setHeader('Cache-Control', 'no-store').json(await keys.create(ctx, userOf(ctx, req.params.id), req.body ?? {}))
  })
  router.get('/users/:id/keys', async (req, res) => {
    const ctx = contextOf(req, res)
    res.json({ data: await keys.list(ctx, userOf(ctx, req.params.id)) })
  })
  router.post('/keys/:id/rotate', async (req, res) => {
    res.status(201).setHeader('Cache-Control', 'no-store').json(await keys.rotate(contextOf(req, res), req.params.id))
  })
  router.post('/keys/:id/revoke', async (req, res) => {
    res.json(await keys.revoke(contextOf(req, res), req.params.id))
  })
  router.get('/users/:id/client-bindings', async (req, res) => {
    const ctx = contextOf(req, res)
    res.json({ data: await bindings.list(ctx, userOf(ctx, req.params.id)) })
  })
  router.delete('/client-bindings/:clientId', async (req, res) => {
    await bindings.release(contextOf(req, res), req.params.clientId)
    res.status(204).end()
  })
  return router
}
