import type { NextFunction, Request, RequestHandler, Response } from 'express'
import helmet from 'helmet'

/**
 * helmet's defaults with a Content-Security-Policy that serves Swagger UI at /docs
 * (its scripts and styles are same-origin files) and the web console at /console
 * (same-origin scripts; `connect-src 'self' ws: wss:` for the REST API and MQTT over
 * WebSocket). HSTS and `upgrade-insecure-requests` are sent only on HTTPS requests —
 * native HTTPS, or `X-Forwarded-Proto: https` from a proxy trusted by TRUST_PROXY:
 * on plain HTTP the upgrade would send the page's own assets to a port that does not
 * speak TLS, and browsers ignore HSTS there anyway.
 */
export function securityHeaders(): RequestHandler {
  const directives = { ...helmet.contentSecurityPolicy.getDefaultDirectives(), 'connect-src': ["'self'", 'ws:', 'wss:'] }
  const overHttps = helmet({
    contentSecurityPolicy: { directives },
    strictTransportSecurity: { maxAge: 31536000, includeSubDomains: true }
  })
  const overHttp = helmet({
    contentSecurityPolicy: { directives: { ...directives, 'upgrade-insecure-requests': null } },
    strictTransportSecurity: false
  })
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.secure) overHttps(req, res, next)
    else overHttp(req, res, next)
  }
}
