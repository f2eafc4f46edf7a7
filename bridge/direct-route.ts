/**
 * POST /api/v1/signals served without Express' router: the one route that is not an
 * ordinary Express route, kept because it is worth far more than 15 % of single-signal
 * ingest throughput (MariaDB, 16 connections). Hubs built with it and with an ordinary
 * route instead, loaded at the same time (12 rounds of 2.5 s): 175 → 267 requests/s
 * (median; ratio per round 1.38, 1.15–2.23), hub CPU per request 1,247 → 743 µs. In
 * `npm run bench`, 8 alternating runs each: 343 → 537 signals/s (medians).
 * It has two parts that pay only together: the listener that runs the route's handlers
 * itself, and server classes whose requests and responses are born with the app's
 * prototypes. Apart, neither gained anything (hub CPU per request, alternating runs: the
 * ordinary route 723 µs, the listener alone 740 µs, requests born with the app's
 * prototypes but routed by Express 926 µs, both 447–568 µs). The handlers are the app's
 * own (request id, helmet, CORS, access log, guards, body-parser, ingest); only their
 * dispatch is done here.
 */
import { IncomingMessage, ServerResponse } from 'node:http'
import type { ErrorRequestHandler, Express, Request, RequestHandler, Response } from 'express'

export interface DirectRoute {
  method: string
  /** Matched exactly against the whole request target: a query string, a trailing slash or another case go to the app. */
  path: string
  /** Run in order, as Express would run them for this route: each calls `next()`, `next(err)`, throws or rejects. */
  handlers: RequestHandler[]
  /** Renders an error passed on by a handler (the app's own error handler). */
  onError: ErrorRequestHandler
}

/** Request and response classes for `http.createServer`, whose objects are born with an Express app's prototypes. */
export interface ServerClasses {
  IncomingMessage: typeof IncomingMessage
  ServerResponse: typeof ServerResponse
}

/**
 * Classes whose instances inherit from `app.request` / `app.response` from the start.
 * Express gives each request its prototypes with `Object.setPrototypeOf` as it enters the
 * app, which leaves V8 slow at every property set on it afterwards; the direct route's
 * requests, made by a server given these classes, need no such change.
 */
export function expressServerClasses(app: Express): ServerClasses {
  class Request extends IncomingMessage {}
  Object.setPrototypeOf(Request.prototype, app.request)
  class Response extends ServerResponse {}
  Object.setPrototypeOf(Response.prototype, app.response)
  return { IncomingMessage: Request, ServerResponse: Response as typeof ServerResponse }
}

/**
 * A request listener that serves one exact route itself and hands every other request
 * to `app`. The route's requests get Express' request and response objects (the app's
 * prototypes, `res.locals`, `req.params`), run the same handlers in the same order and
 * have their errors rendered by the same error handler; what is skipped is walking the
 * router's layers and the per-request set-up of `app.handle`. `res.locals.routeTemplate` is set to the path (the access log's route label). A handler
 * may not call `next('route')` or `next('router')` here; they are treated as errors.
 * With `classes` (given to the server too, see expressServerClasses), the route's requests
 * already have their prototypes.
 */
export function directListener(app: Express, route: DirectRoute, classes?: ServerClasses): (req: IncomingMessage, res: ServerResponse) => void {
  const { method, path, handlers, onError } = route
  // the error handler passes an error on only when the response has already started: like
  // Express' final handler, cut the connection so that the client sees it incomplete
  const last = (req: Request, res: Response) => (): void => {
    if (res.headersSent) {
      req.socket.destroy()
      return
    }
    res.statusCode = 500
    res.end()
  }
  const serve = (request: IncomingMessage, response: ServerResponse): void => {
    if (classes === undefined || !(request instanceof classes.IncomingMessage)) Object.setPrototypeOf(request, app.request)
    if (classes === undefined || !(response instanceof classes.ServerResponse)) Object.setPrototypeOf(response, app.response)
    const req = request as Request
    const res = response as unknown as Response
    req.res = res
    res.req = req
    res.locals = Object.create(null) as Response['locals']
    res.locals.routeTemplate = path
    req.originalUrl = path
    req.baseUrl = ''
    req.params = {}
    let at = 0
    let failed = false
    const fail = (err: unknown): void => {
      if (failed) return
      failed = true
      try {
        onError(err, req, res, last(req, res))
      } catch {
        last(req, res)()
      }
    }
    const next = (err?: unknown): void => {
      if (err !== undefined && err !== null) {
        fail(err === 'route' || err === 'router' ? new Error(`next('${err}') is not supported on ${method} ${path}`) : err)
        return
      }
      const handler = handlers[at++]
      if (handler === undefined) {
        fail(new Error(`no handler answered ${method} ${path}`))
        return
      }
      try {
        const result = handler(req, res, next) as unknown
        if (result instanceof Promise) result.then(undefined, (rejection: unknown) => next(rejection ?? new Error('Rejected promise')))
      } catch (thrown) {
        next(thrown ?? new Error('handler threw a falsy value'))
      }
    }
    next()
  }
  return (req, res) => {
    if (req.method === method && req.url === path) serve(req, res)
    else app(req, res)
  }
}
