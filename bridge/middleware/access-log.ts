import type { NextFunction, Request, RequestHandler, Response } from 'express'
import type { Core } from '../../core/core'
import type { AuditEntry } from '../../core/audit/audit-trail'
import { clientIp } from './request-locals'

/** The matched route's template (`/api/v1/signals/:id`), never the raw path, so metric labels stay few. */
export function routeTemplate(req: Request, res: Response): string {
  if (res.locals.routeTemplate !== undefined) return res.locals.routeTemplate
  const path = (req.route as { path?: unknown } | undefined)?.path
  return typeof path === 'string' ? `${req.baseUrl}${path}` : 'unmatched'
}

/** Error middleware placed at the end of a router: remembers the template before the router's baseUrl is unwound. */
export function keepRouteTemplate(err: unknown, req: Request, res: Response, next: NextFunction): void {
  res.locals.routeTemplate ??= routeTemplate(req, res)
  next(err)
}

/** The request's whole path, without the query: `req.path` is relative to the router the request is in when it ends. */
function pathOf(req: Request): string {
  const url = req.originalUrl
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

function resultOf(status: number): AuditEntry['result'] {
  if (status < 400) return 'ok'
  if (status === 401 || status === 403 || status === 429) return 'denied'
  return 'failed'
}

/**
 * Records every request once it ends (finished or aborted): the latency histogram per
 * route template, and one audit entry (user, method, route, status, ip, request id,
 * latency). That entry is `http.request`, or, when the handler left the operation it
 * performed in `res.locals.operation` (signal ingest), that operation's entry with the
 * request's fields added to its detail: one row per request either way. The audit trail
 * buffers; nothing here waits on the database.
 */
export function accessLog(core: Core): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint()
    let done = false
    const record = (): void => {
      if (done) return
      done = true
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      const route = routeTemplate(req, res)
      const status = res.writableFinished ? res.statusCode : (res.headersSent ? res.statusCode : 499)
      core.metrics.httpDuration.observe({ method: req.method, route, status: String(status) }, seconds)
      const principal = res.locals.principal
      const access = { method: req.method, route, path: pathOf(req).slice(0, 200), status, latency_ms: Math.round(seconds * 1e4) / 10 }
      const operation = res.locals.operation
      const ip = clientIp(req, res)
      core.audit.record(operation === undefined
        ? {
            action: 'http.request',
            result: resultOf(status),
            userId: principal?.userId ?? null,
            actor: principal?.userName ?? null,
            resource: `${req.method} ${route}`,
            ip,
            requestId: res.locals.requestId,
            detail: access
          }
        : { ...operation, ip, requestId: res.locals.requestId, detail: { ...operation.detail, ...access } })
    }
    res.once('finish', record)
    res.once('close', record)
    next()
  }
}
