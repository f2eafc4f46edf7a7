import { Router, type Request, type Response } from 'express'
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi'
import type { Core } from '../../core/core'
import { dayInZone, type SignalHistory } from '../../core/signals/signal-history'
import { parseIsoInZone } from '../../core/signals/zoned-time'
import { requirePrincipal } from '../middleware/request-locals'
import { validate } from '../middleware/validate'
import { KEY_REQUIRED, problemResponses, z } from '../openapi'
import { isoTime, orderedRange } from '../query-fields'

const DEFAULT_DAYS = 7

function schemasFor(core: Core) {
  const { strategy_id: strategyId, symbol } = core.signals.schemas.signal.shape
  const query = z.strictObject({
    from: isoTime(core.config.TZ_DEFAULT).optional().openapi({ description: `Default: midnight ${DEFAULT_DAYS - 1} days before today` }),
    to: isoTime(core.config.TZ_DEFAULT).optional().openapi({ description: 'Default: now' }),
    strategy_id: strategyId.optional(),
    symbol: symbol.optional(),
    type: z.string().max(32).optional()
  }).superRefine(orderedRange)
  const count = z.number().int()
  const response = z.object({
    from: z.string(),
    to: z.string(),
    time_zone: z.string(),
    total: count,
    by_day: z.array(z.object({ day: z.string().openapi({ example: '2026-11-21' }), count })),
    by_symbol: z.array(z.object({ symbol: z.string(), count })),
    by_type: z.array(z.object({ type: z.string(), count }))
  }).openapi('SignalStats')
  return { query, response }
}

/** GET /api/v1/stats: counts per day (in TZ_DEFAULT), symbol and type of readable signals. */
export function statsRouter(core: Core, deps: { history: SignalHistory, docs: OpenAPIRegistry }): Router {
  const schemas = schemasFor(core)
  deps.docs.registerPath({
    method: 'get',
    path: '/api/v1/stats',
    tags: ['signals'],
    summary: 'Signal counts per day, symbol and type',
    description: 'Over the signals the caller may read, created in [from, to) (at most 366 days); days are calendar days in the configured zone.',
    security: KEY_REQUIRED,
    request: { query: schemas.query },
    responses: { 200: { description: 'Counts', content: { 'application/json': { schema: schemas.response } } }, ...problemResponses(403, 404, 422) }
  })
  const router = Router()
  router.get('/stats', async (req: Request, res: Response) => {
    const principal = requirePrincipal(res)
    const query = validate(schemas.query, req.query, 'invalid stats query')
    const timeZone = core.config.TZ_DEFAULT
    const to = query.to ?? core.now()
    const from = query.from ?? defaultFrom(to, timeZone)
    const stats = await deps.history.stats(principal, { strategyId: query.strategy_id, symbol: query.symbol, type: query.type, from, to }, timeZone)
    res.json({ from: from.toISOString(), to: to.toISOString(), time_zone: timeZone, ...stats })
  })
  return router
}

function defaultFrom(to: Date, timeZone: string): Date {
  const start = new Date(to.getTime() - (DEFAULT_DAYS - 1) * 86_400_000)
  return parseIsoInZone(dayInZone(start, timeZone), timeZone) ?? start
}
