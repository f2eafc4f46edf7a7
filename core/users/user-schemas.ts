import { z } from 'zod'
import { roleNameSchema } from '../permissions/permission-schemas'
import { pageQuerySchema } from '../pagination'

const noControl = (s: string): boolean => !/\p{Cc}/u.test(s)

export const userNameSchema = z.string().trim().min(1).max(100).refine(noControl, 'no control characters')
export const contactSchema = z.string().trim().max(255).refine(noControl, 'no control characters')
export const userStatusSchema = z.enum(['active', 'disabled'])

export const createUserSchema = z.strictObject({
  name: userNameSchema,
  contact: contactSchema.nullable().optional(),
  role: roleNameSchema
})

export const updateUserSchema = z.strictObject({
  name: userNameSchema.optional(),
  contact: contactSchema.nullable().optional(),
  role: roleNameSchema.optional(),
  status: userStatusSchema.optional()
}).refine((v) => Object.keys(v).length > 0, 'at least one of name, contact, role, status')

export const listUsersQuerySchema = pageQuerySchema.extend({
  role: roleNameSchema.optional(),
  status: userStatusSchema.optional()
})

export const userViewSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  contact: z.string().nullable(),
  role: z.string(),
  status: userStatusSchema,
  created_at: z.string(),
  updated_at: z.string()
})

export type CreateUserInput = z.input<typeof createUserSchema>
export type UpdateUserInput = z.input<typeof updateUserSchema>
export type ListUsersQuery = z.input<typeof listUsersQuerySchema>
export type UserView = z.infer<typeof userViewSchema>
