import type { NextFunction, Request, RequestHandler, Response } from 'express'
import type { RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible'
import type { Core } from '../../core/core'
import { AppError } from '../../core/errors'
import { logger } from '../../core/logger'
import { createLimiter, isRateLimiterRes, secondsUntilReset } from '../rate-limiters'
import { requirePrincipal } from './request-locals'

function headers(limit: number, state: RateLimiterRes): Record<string, string> {
  return {
    'RateLimit-Limit': String(limit),
    'RateLimit-Remaining': String(Math.max(0, state.remainingPoints)),
    'RateLimit-Reset': String(secondsUntilReset(state))
  }
}

/**
 * RATE_LIMIT_PER_SECOND requests per API key, counted in one-second windows across all
 * nodes (Redis) so a burst of up to the rate passes and the rest wait for the next second.
 * Every answer carries RateLimit-Limit / -Remaining / -Reset; a refusal is 429 with Retry-After.
 * If the limiter's store fails, the request is let through and the failure logged.
 */
export function rateLimit(core: Core, limiter: RateLimiterAbstract = perKeyLimiter(core)): RequestHandler {
  return async (_req: Request, res: Response, next: NextFunction): Promise<void> => {
    const principal = requirePrincipal(res)
    const key = principal.keyId === null ? `user:${principal.userId}` : `key:${principal.keyId}`
    let outcome: RateLimiterRes | Error
    try {
      outcome = await limiter.consume(key)
    } catch (rejection) {
      outcome = rejection as RateLimiterRes | Error
    }
    if (isRateLimiterRes(outcome)) {
      const values = headers(limiter.points, outcome)
      if (outcome.consumedPoints > limiter.points) {
        core.metrics.rateLimited.inc({ door: 'rest' })
        throw new AppError('rate_limited', `more than ${limiter.points} requests per second with this key`, {
          headers: { ...values, 'Retry-After': values['RateLimit-Reset'] }
        })
      }
      res.set(values)
    } else {
      logger.warn('rate limit: store failed; request let through', { requestId: res.locals.requestId, err: outcome.message })
    }
    next()
  }
}

export function perKeyLimiter(core: Core): RateLimiterAbstract {
  return createLimiter(core, { name: 'key', points: core.config.RATE_LIMIT_PER_SECOND, durationSeconds: 1 })
}
