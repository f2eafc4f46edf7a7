import { z } from 'zod'
import { isValidTopicFilter } from '../policy/topic-filter'

export const roleNameSchema = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, '1–32 lower-case letters, digits, "_" or "-", starting with a letter')

export const createRoleSchema = z.strictObject({
  name: roleNameSchema,
  description: z.string().max(255).default('')
})

/** A topic filter with MQTT wildcards; placeholders such as `${user_id}` are allowed inside a level. */
export const permissionTopicSchema = z.string().min(1).max(255)
  .refine((t) => isValidTopicFilter(t), 'a valid MQTT topic filter (`+` and `#` only as whole levels, `#` last)')

export const permissionInputSchema = z.strictObject({
  action: z.enum(['publish', 'subscribe', 'read', 'admin']),
  topic: permissionTopicSchema,
  effect: z.enum(['allow', 'deny'])
})

export const roleViewSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  description: z.string(),
  created_at: z.string()
})

export const permissionViewSchema = z.object({
  id: z.number().int(),
  role: z.string().nullable(),
  user_id: z.number().int().nullable(),
  action: z.enum(['publish', 'subscribe', 'read', 'admin']),
  topic: z.string(),
  effect: z.enum(['allow', 'deny']),
  created_at: z.string()
})

export type CreateRoleInput = z.input<typeof createRoleSchema>
export type PermissionInput = z.input<typeof permissionInputSchema>
export type RoleView = z.infer<typeof roleViewSchema>
export type PermissionView = z.infer<typeof permissionViewSchema>
