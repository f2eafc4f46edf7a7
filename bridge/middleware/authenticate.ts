import type { NextFunction, Request, RequestHandler, Response } from 'express'
import type { RateLimiterAbstract } from 'rate-limiter-flexible'
import type { Core } from '../../core/core'
import { AppError, isAppError } from '../../core/errors'
import { createLimiter, isRateLimiterRes, secondsUntilReset } from '../rate-limiters'

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i

/** The key a request presents: undefined when it presents none, null when the header is malformed. */
function presentedKey(req: Request): string | null | undefined {
  const authorization = req.get('authorization')
  if (authorization !== undefined) return BEARER.exec(authorization)?.[1] ?? null
  const header = req.get('x-api-key')
  if (header === undefined) return undefined
  return header.trim() === '' ? null : header.trim()
}

function locked(seconds: number): AppError {
  return new AppError('auth_locked', `too many failed logins from this address; retry in ${seconds} s`, { headers: { 'Retry-After': String(seconds) } })
}

/**
 * Verifies `Authorization: Bearer <key>` or `X-API-Key: <key>` with the core's key
 * verifier (the one MQTT CONNECT uses) and leaves the principal on `res.locals`.
 * Addresses that fail AUTH_FAIL_LIMIT times within AUTH_FAIL_WINDOW_SECONDS are refused
 * (auth_locked) for the next window, even with a good key, so keys cannot be guessed.
 */
export function authenticate(core: Core, failures: RateLimiterAbstract = authFailureLimiter(core)): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const key = presentedKey(req)
    if (key === undefined) throw new AppError('unauthenticated', 'send Authorization: Bearer <key> or X-API-Key: <key>')
    const ip = req.ip ?? 'unknown'
    const state = await failures.get(ip).catch(() => null)
    if (state !== null && state.consumedPoints > failures.points) throw locked(secondsUntilReset(state))
    try {
      if (key === null) throw new AppError('unauthenticated', 'the Authorization header must be "Bearer <key>"')
      res.locals.principal = await core.keys.verify(key)
    } catch (err) {
      if (!isAppError(err) || err.status >= 500) throw err
      core.metrics.authFailures.inc({ door: 'rest', code: err.code })
      const refusal = await failures.consume(ip).then(() => null, (rejection: unknown) => rejection)
      if (isRateLimiterRes(refusal)) throw locked(secondsUntilReset(refusal))
      throw err
    }
    next()
  }
}

/** The per-address failed-login counter (AUTH_FAIL_LIMIT per AUTH_FAIL_WINDOW_SECONDS, locked as long again). */
export function authFailureLimiter(core: Core): RateLimiterAbstract {
  const window = core.config.AUTH_FAIL_WINDOW_SECONDS
  return createLimiter(core, { name: 'auth-fail', points: core.config.AUTH_FAIL_LIMIT, durationSeconds: window, blockSeconds: window })
}
