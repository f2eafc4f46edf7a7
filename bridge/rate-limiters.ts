import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import type { Core } from '../core/core'

export interface LimiterOptions {
  /** Distinguishes this limiter's keys from others' in a shared store. */
  name: string
  /** Points allowed per window. */
  points: number
  /** Window length, seconds. */
  durationSeconds: number
  /** Seconds a key stays refused once it went over; 0 = until the window ends. */
  blockSeconds?: number
}

/**
 * A rate-limiter-flexible limiter shared by every node through Redis when core.redis is
 * set, in-process otherwise. With Redis, an in-process limiter stands in while Redis is
 * unreachable, so an outage neither blocks every request nor lifts the limits.
 */
export function createLimiter(core: Core, options: LimiterOptions): RateLimiterAbstract {
  const common = {
    keyPrefix: `${core.config.REDIS_PREFIX}rl:${options.name}`,
    points: options.points,
    duration: options.durationSeconds,
    blockDuration: options.blockSeconds ?? 0
  }
  const memory = new RateLimiterMemory(common)
  if (core.redis === undefined) return memory
  return new RateLimiterRedis({ ...common, storeClient: core.redis, useRedisPackage: false, rejectIfRedisNotReady: true, insuranceLimiter: memory })
}

/** A limiter refusal (as opposed to a store failure, which is thrown as an Error). */
export function isRateLimiterRes(value: unknown): value is RateLimiterRes {
  return value instanceof RateLimiterRes
}

/** Whole seconds until the limiter lets the key through again (at least 1). */
export function secondsUntilReset(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000))
}
