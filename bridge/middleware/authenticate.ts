import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { publicPrefixOf } from '../../core/auth/auth-throttle'
import type { Core } from '../../core/core'
import { AppError, isAppError } from '../../core/errors'
import { clientIp } from './request-locals'

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i

/** The key a request presents: undefined when it presents none, null when the header is malformed. */
function presentedKey(req: Request): string | null | undefined {
  const authorization = req.get('authorization')
  if (authorization !== undefined) return BEARER.exec(authorization)?.[1] ?? null
  const header = req.get('x-api-key')
  if (header === undefined) return undefined
  return header.trim() === '' ? null : header.trim()
}

/**
 * Verifies `Authorization: Bearer <key>` or `X-API-Key: <key>` through the core's
 * key-guessing throttle (`core.authThrottle`, shared with MQTT CONNECT) and leaves the
 * principal on `res.locals`. A locked address or key prefix gets 429 auth_locked with
 * Retry-After, even with a good key. Each refusal is counted
 * (signalhub_auth_failures_total{door="rest"}) and audited as `http.auth`, with the
 * key's public prefix but never the key. A request with no key at all is refused
 * without counting: it guesses nothing.
 */
export function authenticate(core: Core): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const key = presentedKey(req)
    if (key === undefined) throw new AppError('unauthenticated', 'send Authorization: Bearer <key> or X-API-Key: <key>')
    const ip = clientIp(req, res)
    try {
      res.locals.principal = await core.authThrottle.verify({ door: 'rest', ip, key })
    } catch (err) {
      if (!isAppError(err) || err.status >= 500) throw err
      core.metrics.authFailures.inc({ door: 'rest', code: err.code })
      core.audit.record({
        action: 'http.auth', result: 'denied', ip, requestId: res.locals.requestId,
        resource: `${req.method} ${req.originalUrl.split('?')[0]}`.slice(0, 200),
        detail: { code: err.code, key_prefix: publicPrefixOf(key) }
      })
      if (key === null && err.code === 'unauthenticated') throw new AppError('unauthenticated', 'the Authorization header must be "Bearer <key>"')
      throw err
    }
    next()
  }
}
