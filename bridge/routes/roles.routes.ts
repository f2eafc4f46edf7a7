import { Router, type Request } from 'express'
import type { Core } from '../../core/core'
import { createRoleSchema, permissionInputSchema, permissionViewSchema, roleViewSchema, type PermissionInput } from '../../core/permissions/permission-schemas'
import type { Grantee } from '../../core/permissions/permission-service'
import { KEY_REQUIRED, problemResponses, registry, z } from '../openapi'
import type { ContextOf } from './management'

const json = (schema: z.ZodType) => ({ 'application/json': { schema } })
const list = (schema: z.ZodType) => json(z.object({ data: z.array(schema) }))
const ruleDeletion = z.object({ permission_id: z.string().optional().describe('the rule\'s id; or send the rule itself as the JSON body') })

registry.registerPath({
  method: 'get', path: '/api/v1/roles', tags: ['roles'], security: KEY_REQUIRED, summary: 'Roles (admin)',
  responses: { 200: { description: 'Roles', content: list(roleViewSchema) }, ...problemResponses(403) }
})
registry.registerPath({
  method: 'post', path: '/api/v1/roles', tags: ['roles'], security: KEY_REQUIRED, summary: 'Create a role (admin); it has no permissions until you add them',
  request: { body: { required: true, content: json(createRoleSchema) } },
  responses: { 201: { description: 'The role', content: json(roleViewSchema) }, ...problemResponses(403, 409, 422) }
})
for (const [owner, param, what] of [['roles', 'role id or name', 'a role'], ['users', 'user id', 'a single user']] as const) {
  const params = z.object({ id: z.string().describe(param) })
  registry.registerPath({
    method: 'get', path: `/api/v1/${owner}/{id}/permissions`, tags: ['permissions'], security: KEY_REQUIRED, summary: `Permissions of ${what} (admin)`,
    request: { params },
    responses: { 200: { description: 'Rules', content: list(permissionViewSchema) }, ...problemResponses(403, 404) }
  })
  registry.registerPath({
    method: 'post', path: `/api/v1/${owner}/{id}/permissions`, tags: ['permissions'], security: KEY_REQUIRED,
    summary: `Grant ${what} a rule (admin): action on an MQTT topic filter (\`\${user_id}\` allowed), allow or deny; deny wins. In effect at once`,
    request: { params, body: { required: true, content: json(permissionInputSchema) } },
    responses: { 201: { description: 'The rule', content: json(permissionViewSchema) }, ...problemResponses(403, 404, 409, 422) }
  })
  registry.registerPath({
    method: 'delete', path: `/api/v1/${owner}/{id}/permissions`, tags: ['permissions'], security: KEY_REQUIRED,
    summary: `Remove a rule of ${what} (admin): by \`permission_id\`, or by the rule as the JSON body`,
    request: { params, query: ruleDeletion, body: { required: false, content: json(permissionInputSchema) } },
    responses: { 204: { description: 'Removed' }, ...problemResponses(403, 404, 422) }
  })
  registry.registerPath({
    method: 'delete', path: `/api/v1/${owner}/{id}/permissions/{permissionId}`, tags: ['permissions'], security: KEY_REQUIRED,
    summary: `Remove a rule of ${what} by its id (admin)`,
    request: { params: params.extend({ permissionId: z.string() }) },
    responses: { 204: { description: 'Removed' }, ...problemResponses(403, 404) }
  })
}

/** /roles, and the permissions of roles and of single users. */
export function rolesRouter(core: Core, contextOf: ContextOf): Router {
  const { permissions } = core
  const router = Router()
  const granteeOf = (req: Request<{ id: string }>, owner: 'roles' | 'users'): Grantee => (owner === 'roles' ? { role: req.params.id } : { userId: req.params.id })

  router.get('/roles', async (req, res) => {
    res.json({ data: await permissions.listRoles(contextOf(req, res)) })
  })
  router.post('/roles', async (req, res) => {
    res.status(201).json(await permissions.createRole(contextOf(req, res), req.body))
  })
  for (const owner of ['roles', 'users'] as const) {
    router.get(`/${owner}/:id/permissions`, async (req, res) => {
      res.json({ data: await permissions.list(contextOf(req, res), granteeOf(req, owner)) })
    })
    router.post(`/${owner}/:id/permissions`, async (req, res) => {
      res.status(201).json(await permissions.add(contextOf(req, res), granteeOf(req, owner), req.body))
    })
    router.delete(`/${owner}/:id/permissions`, async (req, res) => {
      const ctx = contextOf(req, res)
      const id = req.query.permission_id
      if (typeof id === 'string') await permissions.remove(ctx, id, granteeOf(req, owner))
      else await permissions.removeRule(ctx, granteeOf(req, owner), (req.body ?? {}) as unknown as PermissionInput)
      res.status(204).end()
    })
    router.delete(`/${owner}/:id/permissions/:permissionId`, async (req, res) => {
      await permissions.remove(contextOf(req, res), req.params.permissionId, granteeOf(req, owner))
      res.status(204).end()
    })
  }
  return router
}
