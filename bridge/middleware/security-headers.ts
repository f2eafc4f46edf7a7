import type { IncomingMessage, ServerResponse } from 'node:http'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import helmet from 'helmet'

/** What a middleware does to a response's headers, in order: set (name, value) or remove (name). */
type HeaderStep = [name: string, value: string | number | readonly string[]] | [name: string]

/**
 * Runs a header-only middleware once against a stand-in response and records what it
 * did, so that the same steps can be replayed on every response without running it.
 * The helmet middlewares configured here compute nothing from the request.
 */
function recordHeaders(middleware: (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void): HeaderStep[] {
  const steps: HeaderStep[] = []
  const stand = {
    setHeader: (name: string, value: string | number | readonly string[]) => { steps.push([name, value]); return stand },
    removeHeader: (name: string) => { steps.push([name]) }
  }
  let failure: unknown
  middleware({ headers: {} } as IncomingMessage, stand as unknown as ServerResponse, (err) => { failure = err })
  if (failure !== undefined) throw failure
  return steps
}

function replay(steps: readonly HeaderStep[], res: Response): void {
  for (const step of steps) {
    if (step.length === 2) res.setHeader(step[0], step[1])
    else res.removeHeader(step[0])
  }
}

/**
 * helmet's defaults with a Content-Security-Policy that serves Swagger UI at /docs
 * (its scripts and styles are same-origin files) and the web console at /console
 * (same-origin scripts; `connect-src 'self' ws: wss:` for the REST API and MQTT over
 * WebSocket). HSTS and `upgrade-insecure-requests` are sent only on HTTPS requests —
 * native HTTPS, or `X-Forwarded-Proto: https` from a proxy trusted by TRUST_PROXY:
 * on plain HTTP the upgrade would send the page's own assets to a port that does not
 * speak TLS, and browsers ignore HSTS there anyway. helmet works the headers out once,
 * at start-up; each response gets them replayed.
 */
export function securityHeaders(): RequestHandler {
  const directives = { ...helmet.contentSecurityPolicy.getDefaultDirectives(), 'connect-src': ["'self'", 'ws:', 'wss:'] }
  const overHttps = recordHeaders(helmet({
    contentSecurityPolicy: { directives },
    strictTransportSecurity: { maxAge: 31536000, includeSubDomains: true }
  }))
  const overHttp = recordHeaders(helmet({
    contentSecurityPolicy: { directives: { ...directives, 'upgrade-insecure-requests': null } },
    strictTransportSecurity: false
  }))
  return (req: Request, res: Response, next: NextFunction): void => {
    replay(req.secure ? overHttps : overHttp, res)
    next()
  }
}
