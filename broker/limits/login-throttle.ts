import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import type { Core } from '../../core/core'
import { logger } from '../../core/logger'

/**
 * Failed logins per address: after AUTH_FAIL_LIMIT failures within
 * AUTH_FAIL_WINDOW_SECONDS the address is refused until the window ends, without its
 * key being checked. Shared by every node through Redis when there is one, under
 * `<REDIS_PREFIX>auth-fail` (the key REST uses too, so both doors count together).
 * A Redis failure lets the login through (fail open) and is logged.
 */
export class LoginThrottle {
  constructor(private readonly limiter: RateLimiterAbstract, private readonly limit: number) {}

  static create(core: Pick<Core, 'config' | 'redis'>): LoginThrottle {
    const { AUTH_FAIL_LIMIT: points, AUTH_FAIL_WINDOW_SECONDS: duration, REDIS_PREFIX } = core.config
    const limiter = core.redis === undefined
      ? new RateLimiterMemory({ points, duration, keyPrefix: 'auth-fail' })
      : new RateLimiterRedis({ storeClient: core.redis, points, duration, keyPrefix: `${REDIS_PREFIX}auth-fail` })
    return new LoginThrottle(limiter, points)
  }

  /** Milliseconds until `ip` may try again, or 0 when it is not locked out. */
  async lockedFor(ip: string | null): Promise<number> {
    if (ip === null) return 0
    try {
      const res = await this.limiter.get(ip)
      return res !== null && res.consumedPoints >= this.limit ? Math.max(res.msBeforeNext, 1) : 0
    } catch (err) {
      logger.warn('mqtt: login throttle unavailable', { err: (err as Error).message })
      return 0
    }
  }

  async recordFailure(ip: string | null): Promise<void> {
    if (ip === null) return
    try {
      await this.limiter.consume(ip)
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) logger.warn('mqtt: login throttle unavailable', { err: (err as Error).message })
    }
  }
}
