import type { IncomingMessage, ServerResponse } from 'node:http'
import express from 'express'
import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi'
import type { Core } from '../core/core'
import { accessLog, keepRouteTemplate } from './middleware/access-log'
import { authenticate } from './middleware/authenticate'
import { cors } from './middleware/cors'
import { errorHandler } from './middleware/error-handler'
import { jsonBody } from './middleware/json-body'
import { notFound } from './middleware/not-found'
import { rateLimit } from './middleware/rate-limit'
import { requestId } from './middleware/request-id'
import { requireJson } from './middleware/require-json'
import { securityHeaders } from './middleware/security-headers'
import { directListener, expressServerClasses, type ServerClasses } from './direct-route'
import { registry } from './openapi'
import { consoleRouter } from './routes/console.routes'
import { docsRouter } from './routes/docs.routes'
import { healthRouter } from './routes/health.routes'
import { managementRouter } from './routes/management'
import { signalRoutes } from './routes/signals.routes'
import { statsRouter } from './routes/stats.routes'
import { SignalStreams } from './signal-streams'

export interface HttpApp {
  app: express.Express
  /** The HTTP server's request listener: `app`, with POST /api/v1/signals served directly (see directListener). */
  listener: (req: IncomingMessage, res: ServerResponse) => void
  /** The request and response classes to create the HTTP server with (`createServer(classes, listener)`). */
  classes: ServerClasses
  /** Ends open SSE streams and stops their timers; the server itself is closed by its owner. */
  close(): void
}

/**
 * The HTTP door. Order matters: request id and security headers first; probes before
 * the access log (they are not audited); then the access log, the docs, and `/api/v1`
 * behind authentication, rate limiting and JSON parsing; 404 and the error renderer last.
 * POST /api/v1/signals, the busiest route by far, is matched right after the headers,
 * through the same access log and guards as the rest of /api/v1 but without walking the
 * routers in between; the server's `listener` goes further and runs that chain (headers
 * included) without the router at all, for exactly that method and path (bridge/direct-route.ts
 * says why).
 */
export function createHttpApp(core: Core): HttpApp {
  const app = express()
  app.disable('x-powered-by')
  app.set('trust proxy', core.config.TRUST_PROXY)
  app.set('query parser', 'simple')

  const { history } = core
  const streams = new SignalStreams(core, history)
  const docs = new OpenAPIRegistry([registry])

  const access = accessLog(core)
  const guards = [authenticate(core), rateLimit(core), requireJson, jsonBody()]
  const signals = signalRoutes(core, { history, streams, docs })
  const api = express.Router()
  api.use(...guards)
  api.use(signals.router)
  api.use(statsRouter(core, { history, docs }))
  api.use(managementRouter(core))
  api.use(keepRouteTemplate)

  const headers = [requestId, securityHeaders(), cors(core.config.CORS_ORIGINS)]
  app.use(...headers)
  app.post('/api/v1/signals', access, ...guards, signals.ingest)
  app.use(healthRouter(core))
  app.use('/console', consoleRouter())
  app.use(access)
  app.use(docsRouter(docs, { ui: core.config.DOCS_ENABLED }))
  app.use('/api/v1', api)
  app.use(notFound)
  app.use(errorHandler)

  const classes = expressServerClasses(app)
  const listener = directListener(app, { method: 'POST', path: '/api/v1/signals', handlers: [...headers, access, ...guards, signals.ingest], onError: errorHandler }, classes)
  return { app, listener, classes, close: () => streams.close() }
}
