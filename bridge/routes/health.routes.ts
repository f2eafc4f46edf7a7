import { timingSafeEqual } from 'node:crypto'
import { Router, type Request, type Response } from 'express'
import type { Core } from '../../core/core'
import { AppError } from '../../core/errors'
import { registry, z } from '../openapi'

const health = z.object({ status: z.enum(['ok', 'unavailable']), checks: z.record(z.string(), z.enum(['up', 'down'])).optional() })

registry.registerPath({ method: 'get', path: '/healthz', tags: ['operations'], summary: 'Liveness: the process answers', responses: { 200: { description: 'Alive', content: { 'application/json': { schema: health } } } } })
registry.registerPath({
  method: 'get',
  path: '/readyz',
  tags: ['operations'],
  summary: 'Readiness: the database (and Redis, when configured) answer',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: health } } },
    503: { description: 'A dependency is down', content: { 'application/json': { schema: health } } }
  }
})
registry.registerPath({
  method: 'get',
  path: '/metrics',
  tags: ['operations'],
  summary: 'Prometheus metrics (Bearer METRICS_TOKEN when one is configured)',
  responses: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } } }
})

const PING_TIMEOUT_MS = 2000

function withTimeout(check: Promise<boolean>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS) })
  return Promise.race([check.catch(() => false), timeout]).finally(() => clearTimeout(timer))
}

function tokenMatches(presented: string | undefined, expected: string): boolean {
  const a = Buffer.from(presented ?? '')
  const b = Buffer.from(`Bearer ${expected}`)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** /healthz, /readyz and /metrics: public (metrics behind METRICS_TOKEN when set), never rate limited. */
export function healthRouter(core: Core): Router {
  const router = Router()
  router.get('/healthz', (_req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' })
  })

  router.get('/readyz', async (_req: Request, res: Response) => {
    const redis = core.redis
    const [database, redisUp] = await Promise.all([
      withTimeout(core.db.ping()),
      redis === undefined ? Promise.resolve(undefined) : withTimeout(redis.ping().then((r) => r === 'PONG'))
    ])
    core.metrics.databaseUp.set(database ? 1 : 0)
    const checks: Record<string, 'up' | 'down'> = { database: database ? 'up' : 'down' }
    if (redisUp !== undefined) checks.redis = redisUp ? 'up' : 'down'
    const ready = Object.values(checks).every((c) => c === 'up')
    res.status(ready ? 200 : 503).set('Cache-Control', 'no-store').json({ status: ready ? 'ok' : 'unavailable', checks })
  })

  router.get('/metrics', async (req: Request, res: Response) => {
    const token = core.config.METRICS_TOKEN
    if (token !== undefined && !tokenMatches(req.get('authorization'), token)) {
      throw new AppError('unauthenticated', 'send Authorization: Bearer <METRICS_TOKEN>', { headers: { 'WWW-Authenticate': 'Bearer realm="metrics"' } })
    }
    const body = await core.metrics.registry.metrics()
    res.set('Content-Type', core.metrics.registry.contentType).send(body)
  })
  return router
}
