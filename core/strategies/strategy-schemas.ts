import { z } from 'zod'
import { strategyIdSchema } from '../signals/signal-schema'
import { pageQuerySchema } from '../pagination'

const noControl = (s: string): boolean => !/\p{Cc}/u.test(s)
const strategyName = z.string().trim().min(1).max(100).refine(noControl, 'no control characters')
const description = z.string().max(2000).refine((s) => !s.includes('\u0000'), 'no NUL characters')
export const visibilitySchema = z.enum(['public', 'private'])

export const createStrategySchema = z.strictObject({
  id: strategyIdSchema,
  name: strategyName,
  description: description.default(''),
  visibility: visibilitySchema.default('public'),
  owner_id: z.number().int().positive().optional().describe('admins only; defaults to the caller')
})

export const updateStrategySchema = z.strictObject({
  name: strategyName.optional(),
  description: description.optional(),
  visibility: visibilitySchema.optional(),
  owner_id: z.number().int().positive().optional().describe('admins only: hands the strategy to another user')
}).refine((v) => Object.keys(v).length > 0, 'at least one of name, description, visibility, owner_id')

export const listStrategiesQuerySchema = pageQuerySchema.extend({
  owner_id: z.coerce.number().int().positive().optional(),
  visibility: visibilitySchema.optional()
})

export const deleteStrategyQuerySchema = z.object({
  force: z.enum(['true', 'false']).default('false').transform((v) => v === 'true')
})

export const strategyViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  owner_id: z.number().int(),
  visibility: visibilitySchema,
  last_seq: z.number().int(),
  created_at: z.string(),
  updated_at: z.string()
})

export type CreateStrategyInput = z.input<typeof createStrategySchema>
export type UpdateStrategyInput = z.input<typeof updateStrategySchema>
export type ListStrategiesQuery = z.input<typeof listStrategiesQuerySchema>
export type StrategyView = z.infer<typeof strategyViewSchema>
