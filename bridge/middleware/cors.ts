import type { NextFunction, Request, RequestHandler, Response } from 'express'

const ALLOWED_METHODS = 'GET, POST, PATCH, DELETE, OPTIONS'
const ALLOWED_HEADERS = 'Authorization, X-API-Key, Content-Type, Idempotency-Key, Last-Event-ID, X-Request-Id, Accept-Language'
const EXPOSED_HEADERS = 'X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Idempotent-Replayed'

/**
 * CORS for the origins in CORS_ORIGINS (`*` allows any). No allow-list means same origin
 * only: no CORS headers are sent. Credentials are never allowed; keys travel in headers.
 */
export function cors(allowedOrigins: readonly string[]): RequestHandler {
  const anyOrigin = allowedOrigins.includes('*')
  const allowed = new Set(allowedOrigins)
  return (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.get('origin')
    if (origin === undefined || (!anyOrigin && !allowed.has(origin))) {
      next()
      return
    }
    res.vary('Origin')
    res.setHeader('Access-Control-Allow-Origin', anyOrigin ? '*' : origin)
    res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS)
    if (req.method === 'OPTIONS' && req.get('access-control-request-method') !== undefined) {
      res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS)
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS)
      res.setHeader('Access-Control-Max-Age', '600')
      res.status(204).end()
      return
    }
    next()
  }
}
