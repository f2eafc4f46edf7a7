import type { AuthThrottle } from '../../core/auth/auth-throttle'
import type { Core } from '../../core/core'
import type { Principal } from '../../core/principal'

/**
 * The MQTT side of the core's key-guessing throttle (`core.authThrottle`): the same
 * counters REST uses, per address and per key prefix, shared by every node through
 * Redis under `<REDIS_PREFIX>auth-fail` when Redis is configured. A locked address or
 * key prefix is refused (auth_locked, CONNACK 3) before the key is checked.
 */
export class LoginThrottle {
  constructor(private readonly throttle: AuthThrottle) {}

  static create(core: Pick<Core, 'authThrottle'>): LoginThrottle {
    return new LoginThrottle(core.authThrottle)
  }

  /** The CONNECT password verified as an API key behind the throttle; rejects with an AppError. */
  verify(ip: string | null, password: Buffer | undefined): Promise<Principal> {
    return this.throttle.verify({ door: 'mqtt', ip, key: password === undefined ? null : password.toString('utf8') })
  }
}
