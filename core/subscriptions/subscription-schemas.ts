import { z } from 'zod'
import { strategyIdSchema, symbolSchema } from '../signals/signal-schema'
import { pageQuerySchema } from '../pagination'

export const MAX_SUBSCRIPTION_SYMBOLS = 100

export const addSubscriptionSchema = z.strictObject({
  strategy_id: strategyIdSchema,
  symbols: z.array(symbolSchema).min(1).max(MAX_SUBSCRIPTION_SYMBOLS).nullable().optional()
    .describe('limit the subscription to these symbols; omitted or null = every symbol'),
  user_id: z.number().int().positive().optional().describe('whom to subscribe: admins and the strategy\'s owner only; defaults to the caller')
})

export const listSubscriptionsQuerySchema = pageQuerySchema.extend({
  user_id: z.coerce.number().int().positive().optional(),
  strategy_id: strategyIdSchema.optional()
})

export const subscriptionViewSchema = z.object({
  id: z.number().int(),
  user_id: z.number().int(),
  strategy_id: z.string(),
  symbols: z.array(z.string()).nullable(),
  status: z.enum(['active', 'cancelled']),
  created_at: z.string(),
  updated_at: z.string()
})

export type AddSubscriptionInput = z.input<typeof addSubscriptionSchema>
export type ListSubscriptionsQuery = z.input<typeof listSubscriptionsQuerySchema>
export type SubscriptionView = z.infer<typeof subscriptionViewSchema>
