import type { Redis } from 'ioredis'
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible'
import type { AuditTrail } from '../audit/audit-trail'
import type { Config } from '../config'
import { AppError } from '../errors'
import { logger } from '../logger'
import type { Principal } from '../principal'
import { prefixOf } from './api-key'

/** The door a login attempt came through. */
export type AuthDoor = 'rest' | 'mqtt'

export interface AuthAttempt {
  door: AuthDoor
  /** The caller's address (after TRUST_PROXY); null when unknown: then only the key prefix is counted. */
  ip: string | null
  /** The presented key; null when none was presented or the header was malformed. */
  key: string | null
}

/** Why an attempt is refused before its key is looked at, and for how long. */
export interface Lockout {
  /** `address`: too many failures from this address; `key_prefix`: too many failures on this key prefix, from any address. */
  scope: 'address' | 'key_prefix'
  retryAfterSeconds: number
}

export interface AuthThrottleOptions {
  /** Failures per address within the window before the address is locked (AUTH_FAIL_LIMIT). */
  addressLimit: number
  /** Failures per key prefix, from all addresses, within the window before the prefix is locked (AUTH_LOCKOUT_PREFIX_LIMIT). */
  prefixLimit: number
  /** Counting window and lock-out length, seconds (AUTH_FAIL_WINDOW_SECONDS). */
  windowSeconds: number
  /** Redis key prefix of the counters: `<REDIS_PREFIX>auth-fail:addr:<ip>` and `…:prefix:<key prefix>`. */
  keyPrefix: string
}

type KeyVerifier = (key: string | null) => Promise<Principal>

/**
 * The public prefix of a presented key, or null when the key does not have the
 * generated `shk_<prefix>_<secret>` form. Only such a prefix names a key an attacker
 * can aim at, and only it may be logged: the prefix derived for any other string is
 * part of that string's hash.
 */
export function publicPrefixOf(key: string | null): string | null {
  if (key === null || key.length === 0 || key.length > 256) return null
  const prefix = prefixOf(key)
  return key.startsWith(`shk_${prefix}_`) ? prefix : null
}

/**
 * The key-guessing throttle both doors put in front of `KeyService.verify`. A refused
 * key counts one failure against the caller's address and one against the key's public
 * prefix. After `addressLimit` failures from one address, or `prefixLimit` failures on
 * one prefix from all addresses together, within `windowSeconds`, that address or
 * prefix is locked for `windowSeconds`: every attempt from it (or with a key of that
 * prefix) is refused with `auth_locked` before the key is checked, even a correct key —
 * otherwise the lock would still tell a guesser when a guess is right. A client on
 * another address with its own key is unaffected. Attempts refused by a lock are not
 * counted, so a lock ends on time however long the attack goes on.
 *
 * Counters live in Redis when there is one (shared by every node and both doors), in
 * process memory otherwise; with Redis unreachable an in-process counter stands in.
 * A store failure lets the attempt through to the key check (fail open) and is logged.
 * The start of every lock-out is audited as `auth.lockout`; the doors audit and count
 * each refusal themselves (they know the client id or request id).
 */
export class AuthThrottle {
  constructor(
    private readonly addresses: RateLimiterAbstract,
    private readonly prefixes: RateLimiterAbstract,
    private readonly options: AuthThrottleOptions,
    private readonly verifier: KeyVerifier,
    private readonly audit: Pick<AuditTrail, 'record'>
  ) {}

  static create(config: Pick<Config, 'AUTH_FAIL_LIMIT' | 'AUTH_FAIL_WINDOW_SECONDS' | 'AUTH_LOCKOUT_PREFIX_LIMIT' | 'REDIS_PREFIX'>, deps: { redis?: Redis, verify: KeyVerifier, audit: Pick<AuditTrail, 'record'> }): AuthThrottle {
    const options: AuthThrottleOptions = {
      addressLimit: config.AUTH_FAIL_LIMIT,
      prefixLimit: config.AUTH_LOCKOUT_PREFIX_LIMIT,
      windowSeconds: config.AUTH_FAIL_WINDOW_SECONDS,
      keyPrefix: `${config.REDIS_PREFIX}auth-fail`
    }
    const limiter = (scope: string, points: number): RateLimiterAbstract => {
      const common = { keyPrefix: `${options.keyPrefix}:${scope}`, points, duration: options.windowSeconds }
      const memory = new RateLimiterMemory(common)
      if (deps.redis === undefined) return memory
      return new RateLimiterRedis({ ...common, storeClient: deps.redis, useRedisPackage: false, rejectIfRedisNotReady: true, insuranceLimiter: memory })
    }
    return new AuthThrottle(limiter('addr', options.addressLimit), limiter('prefix', options.prefixLimit), options, deps.verify, deps.audit)
  }

  /**
   * Verifies `attempt.key` behind the throttle: `auth_locked` (with Retry-After) while the
   * address or the key prefix is locked, else the verifier's answer; a refused key is
   * counted. Failures of the store (database, Redis) are thrown as they are.
   */
  async verify(attempt: AuthAttempt): Promise<Principal> {
    const lock = await this.lockout(attempt)
    if (lock !== null) throw lockedError(lock)
    try {
      return await this.verifier(attempt.key)
    } catch (err) {
      if (err instanceof AppError && err.status < 500) await this.recordFailure(attempt)
      throw err
    }
  }

  /** The lock that refuses `attempt` before its key is checked, or null. */
  async lockout(attempt: Pick<AuthAttempt, 'ip' | 'key'>): Promise<Lockout | null> {
    const prefix = publicPrefixOf(attempt.key)
    const [byAddress, byPrefix] = await Promise.all([
      attempt.ip === null ? 0 : this.lockedMs(this.addresses, attempt.ip, this.options.addressLimit),
      prefix === null ? 0 : this.lockedMs(this.prefixes, prefix, this.options.prefixLimit)
    ])
    if (byAddress > 0) return { scope: 'address', retryAfterSeconds: Math.max(1, Math.ceil(byAddress / 1000)) }
    if (byPrefix > 0) return { scope: 'key_prefix', retryAfterSeconds: Math.max(1, Math.ceil(byPrefix / 1000)) }
    return null
  }

  /** Counts one refused key against the address and the key's public prefix; locks either when it reaches its limit. */
  async recordFailure(attempt: AuthAttempt): Promise<void> {
    const prefix = publicPrefixOf(attempt.key)
    await Promise.all([
      attempt.ip === null ? undefined : this.count(this.addresses, attempt.ip, this.options.addressLimit, { ...attempt, scope: 'address', prefix }),
      prefix === null ? undefined : this.count(this.prefixes, prefix, this.options.prefixLimit, { ...attempt, scope: 'key_prefix', prefix })
    ])
  }

  private async lockedMs(limiter: RateLimiterAbstract, id: string, limit: number): Promise<number> {
    try {
      const res = await limiter.get(id)
      return res !== null && res.consumedPoints >= limit ? Math.max(res.msBeforeNext, 1) : 0
    } catch (err) {
      logger.warn('auth throttle unavailable', { err: (err as Error).message })
      return 0
    }
  }

  private async count(limiter: RateLimiterAbstract, id: string, limit: number, what: AuthAttempt & { scope: Lockout['scope'], prefix: string | null }): Promise<void> {
    try {
      const res = await limiter.penalty(id, 1)
      // exactly at the limit: this failure starts the lock-out, which lasts a whole window from now
      if (res.consumedPoints !== limit) return
      await limiter.block(id, this.options.windowSeconds)
      this.audit.record({
        action: 'auth.lockout',
        result: 'denied',
        ip: what.ip,
        resource: what.scope === 'address' ? `address/${what.ip ?? ''}` : `key-prefix/${what.prefix ?? ''}`,
        detail: { door: what.door, scope: what.scope, key_prefix: what.prefix, failures: limit, seconds: this.options.windowSeconds }
      })
      logger.warn('auth: lock-out started', { door: what.door, scope: what.scope, ip: what.ip, key_prefix: what.prefix, seconds: this.options.windowSeconds })
    } catch (err) {
      logger.warn('auth throttle unavailable', { err: (err as Error).message })
    }
  }
}

/** The refusal for a locked address or prefix: 429 with Retry-After on REST, CONNACK 3 on MQTT. */
export function lockedError(lock: Lockout): AppError {
  const what = lock.scope === 'address' ? 'from this address' : 'for this key'
  return new AppError('auth_locked', `too many failed logins ${what}; retry in ${lock.retryAfterSeconds} s`, {
    headers: { 'Retry-After': String(lock.retryAfterSeconds) }
  })
}
