import { timingSafeEqual } from 'node:crypto'
import { BlockList, isIP } from 'node:net'
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
  summary: 'Prometheus metrics: only from METRICS_ALLOW addresses when set, with Bearer METRICS_TOKEN when set',
  responses: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } }, 401: { description: 'METRICS_TOKEN missing or wrong' }, 403: { description: 'Address outside METRICS_ALLOW' } }
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

/** The address checker for METRICS_ALLOW (IPs and CIDR blocks); null when the list is empty (any address). */
export function addressAllowList(entries: readonly string[]): ((ip: string | undefined) => boolean) | null {
  if (entries.length === 0) return null
  const list = new BlockList()
  for (const entry of entries) {
    const [address, bits] = entry.split('/')
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4'
    if (bits === undefined) list.addAddress(address, type)
    else list.addSubnet(address, Number(bits), type)
  }
  return (ip) => {
    if (ip === undefined) return false
    const plain = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip
    const family = isIP(plain)
    return family !== 0 && list.check(plain, family === 6 ? 'ipv6' : 'ipv4')
  }
}

/**
 * /healthz, /readyz and /metrics, never rate limited. /metrics answers only addresses
 * in METRICS_ALLOW (the client address after TRUST_PROXY; 403 otherwise) when it is
 * set, and only with `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise) when that
 * is set; with both, both are required. The probes stay public.
 */
export function healthRouter(core: Core): Router {
  const router = Router()
  router.get('/healthz', (_req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' })
  })

  router.get('/readyz', async (_req: Request, res: Response) => {
    const redis = core.redis
    const [database, redisUp] = await Promise.all([
      withTimeout(core.databaseReachable()),
      redis === undefined ? Promise.resolve(undefined) : withTimeout(redis.ping().then((r) => r === 'PONG'))
    ])
    core.metrics.databaseUp.set(database ? 1 : 0)
    const checks: Record<string, 'up' | 'down'> = { database: database ? 'up' : 'down' }
    if (redisUp !== undefined) checks.redis = redisUp ? 'up' : 'down'
    const ready = Object.values(checks).every((c) => c === 'up')
    res.status(ready ? 200 : 503).set('Cache-Control', 'no-store').json({ status: ready ? 'ok' : 'unavailable', checks })
  })

  const allowed = addressAllowList(core.config.METRICS_ALLOW)
  router.get('/metrics', async (req: Request, res: Response) => {
    if (allowed !== null && !allowed(req.ip)) throw new AppError('forbidden', '/metrics is not served to this address (METRICS_ALLOW)')
    const token = core.config.METRICS_TOKEN
    if (token !== undefined && !tokenMatches(req.get('authorization'), token)) {
      throw new AppError('unauthenticated', 'send Authorization: Bearer <METRICS_TOKEN>', { headers: { 'WWW-Authenticate': 'Bearer realm="metrics"' } })
    }
    const body = await core.metrics.registry.metrics()
    res.set('Content-Type', core.metrics.registry.contentType).send(body)
  })
  return router
}
