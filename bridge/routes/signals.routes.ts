import { Router, type Request, type RequestHandler, type Response } from 'express'
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi'
import type { Core } from '../../core/core'
import { AppError } from '../../core/errors'
import { idempotencyKeySchema, MAX_BATCH } from '../../core/signals/signal-schema'
import { decodeCursor, encodeCursor, MAX_HISTORY_LIMIT, type SignalHistory } from '../../core/signals/signal-history'
import { clientIp, requirePrincipal } from '../middleware/request-locals'
import { validate } from '../middleware/validate'
import { KEY_REQUIRED, problemResponses, z } from '../openapi'
import { isoTime, orderedRange, queryInt } from '../query-fields'
import { parseLastEventId, type SignalStreams } from '../signal-streams'

export interface SignalRouteDeps {
  history: SignalHistory
  streams: SignalStreams
  /** Where this app's paths are described (schemas depend on the configuration). */
  docs: OpenAPIRegistry
}

export const signalViewSchema = z.object({
  id: z.number().int(),
  seq: z.number().int().openapi({ description: 'Per strategy: +1 for each signal, no gaps' }),
  strategy_id: z.string(),
  symbol: z.string(),
  type: z.string(),
  execute_date: z.string().openapi({ format: 'date-time' }),
  description: z.string(),
  payload: z.unknown().openapi({ description: 'Any JSON object or array, or null' }),
  publisher: z.number().int().nullable(),
  created_at: z.string().openapi({ format: 'date-time' })
}).openapi('Signal')

function schemasFor(core: Core) {
  const timeZone = core.config.TZ_DEFAULT
  const { strategy_id: strategyId, symbol } = core.signals.schemas.signal.shape
  const history = z.strictObject({
    strategy_id: strategyId.optional(),
    symbol: symbol.optional(),
    type: z.string().max(32).optional(),
    from: isoTime(timeZone).optional(),
    to: isoTime(timeZone).optional(),
    after_seq: queryInt.optional().openapi({ type: 'integer', description: 'Only signals with a larger seq (use with strategy_id)' }),
    limit: queryInt.pipe(z.number().int().min(1).max(MAX_HISTORY_LIMIT)).optional().openapi({ type: 'integer', description: `1–${MAX_HISTORY_LIMIT}, default 100` }),
    cursor: z.string().max(200).optional().openapi({ description: 'next_cursor of the previous page' })
  }).superRefine(orderedRange)
  const stream = z.strictObject({
    strategy_id: strategyId.optional(),
    symbol: symbol.optional(),
    type: z.string().max(32).optional(),
    last_event_id: z.string().max(100).optional().openapi({ description: 'Same as the Last-Event-ID header, for clients that cannot set it' })
  })
  const idempotencyHeader = z.object({
    'idempotency-key': idempotencyKeySchema.optional()
  })
  return { history, stream, idempotencyHeader }
}

function register(docs: OpenAPIRegistry, core: Core, schemas: ReturnType<typeof schemasFor>): void {
  const one = core.signals.schemas.signal
  const batch = z.strictObject({ signals: z.array(one).min(1).max(MAX_BATCH) })
  docs.registerPath({
    method: 'post',
    path: '/api/v1/signals',
    tags: ['signals'],
    summary: 'Publish one signal or a batch (all or nothing)',
    description: 'Stored with the next seq of its strategy, then published to MQTT `strategy/<strategy_id>/<symbol>` (retained). The caller must own the strategy or be an admin. Repeating an Idempotency-Key within 24 h returns the first result (header Idempotent-Replayed: true) and publishes nothing.',
    security: KEY_REQUIRED,
    request: {
      headers: schemas.idempotencyHeader,
      body: { required: true, content: { 'application/json': { schema: z.union([one, batch]) } } }
    },
    responses: {
      201: {
        description: 'Stored and published: the signal, or `{"signals": […]}` for a batch',
        content: { 'application/json': { schema: z.union([signalViewSchema, z.object({ signals: z.array(signalViewSchema) })]) } }
      },
      ...problemResponses(400, 403, 409, 413, 415, 422)
    }
  })
  docs.registerPath({
    method: 'get',
    path: '/api/v1/signals',
    tags: ['signals'],
    summary: 'History of the signals the caller may read',
    description: 'In (strategy_id, seq) order. `from`/`to` bound created_at (from inclusive, to exclusive). Pass `next_cursor` back as `cursor` for the next page; it is null on the last page.',
    security: KEY_REQUIRED,
    request: { query: schemas.history },
    responses: {
      200: { description: 'A page', content: { 'application/json': { schema: z.object({ data: z.array(signalViewSchema), next_cursor: z.string().nullable() }) } } },
      ...problemResponses(403, 404, 422)
    }
  })
  docs.registerPath({
    method: 'get',
    path: '/api/v1/signals/stream',
    tags: ['signals'],
    summary: 'Server-Sent Events of new signals the caller may read',
    description: 'Each event: `id: <strategy_id>:<seq>`, `event: signal`, `data: <signal JSON>`. Reconnect with `Last-Event-ID` to get what was missed first. A comment line is sent every 15 s.',
    security: KEY_REQUIRED,
    request: { query: schemas.stream, headers: z.object({ 'last-event-id': z.string().optional() }) },
    responses: { 200: { description: 'An event stream', content: { 'text/event-stream': { schema: z.string() } } }, ...problemResponses(403, 404, 422) }
  })
}

function idempotencyKeyOf(req: Request, schemas: ReturnType<typeof schemasFor>): string | undefined {
  return validate(schemas.idempotencyHeader, { 'idempotency-key': req.get('idempotency-key') }, 'invalid Idempotency-Key header')['idempotency-key']
}

/** The signal routes: `ingest` answers POST /api/v1/signals, `router` the GET routes under /api/v1. */
export interface SignalRoutes {
  ingest: RequestHandler
  router: Router
}

/**
 * Writes a JSON answer without `res.json`'s extras: an ETag, computed over every body,
 * serves only conditional GETs, and an ingest answer is never one.
 */
function sendCreated(res: Response, body: unknown): void {
  res.status(201)
  res.setHeader('Content-Type', 'application/json; charset=utf-8')
  res.end(JSON.stringify(body))
}

/** POST/GET /api/v1/signals and GET /api/v1/signals/stream. */
export function signalRoutes(core: Core, deps: SignalRouteDeps): SignalRoutes {
  const schemas = schemasFor(core)
  register(deps.docs, core, schemas)
  const router = Router()

  const ingest = async (req: Request, res: Response): Promise<void> => {
    const principal = requirePrincipal(res)
    const idempotencyKey = idempotencyKeyOf(req, schemas)
    const { items, batch } = core.signals.parseRestBody(req.body)
    const result = await core.signals.ingest(principal, items, {
      source: 'rest', batch, idempotencyKey, ip: clientIp(req, res), requestId: res.locals.requestId, audit: (entry) => { res.locals.operation = entry }
    })
    if (result.replayed) res.setHeader('Idempotent-Replayed', 'true')
    sendCreated(res, batch ? { signals: result.signals } : result.signals[0])
  }

  router.get('/signals', async (req: Request, res: Response) => {
    const principal = requirePrincipal(res)
    const query = validate(schemas.history, req.query, 'invalid history query')
    let after
    if (query.cursor !== undefined) {
      after = decodeCursor(query.cursor) ?? undefined
      if (after === undefined) throw new AppError('validation_failed', 'invalid cursor', { issues: [{ path: 'cursor', message: 'not a cursor this API returned' }] })
    }
    const page = await deps.history.page(principal, {
      strategyId: query.strategy_id, symbol: query.symbol, type: query.type, from: query.from, to: query.to, afterSeq: query.after_seq
    }, { limit: query.limit ?? 100, after })
    res.json({ data: page.data, next_cursor: page.next === null ? null : encodeCursor(page.next) })
  })

  router.get('/signals/stream', async (req: Request, res: Response) => {
    const principal = requirePrincipal(res)
    const query = validate(schemas.stream, req.query, 'invalid stream query')
    const lastEventId = req.get('last-event-id') ?? query.last_event_id
    const resumeFrom = lastEventId === undefined || lastEventId === '' ? null : parseLastEventId(lastEventId)
    if (resumeFrom === null && lastEventId !== undefined && lastEventId !== '') {
      throw new AppError('validation_failed', 'invalid Last-Event-ID', { issues: [{ path: 'Last-Event-ID', message: 'an event id this stream sent: <strategy_id>:<seq>' }] })
    }
    await deps.streams.open(req, res, principal, { strategyId: query.strategy_id, symbol: query.symbol, type: query.type }, resumeFrom)
  })

  return { ingest, router }
}
