import { randomBytes } from 'node:crypto'
import { cliContext, type ActionContext } from '../../core/action-context'
import type { Core } from '../../core/core'
import type { Principal } from '../../core/principal'
import type { StrategyView } from '../../core/strategies/strategy-schemas'
import type { SubscriptionView } from '../../core/subscriptions/subscription-schemas'

/**
 * Users, keys, strategies and subscriptions made through core's public services, as the
 * operator at the shell would (`cliContext`): every harness (core only, bridge, full hub)
 * gives these, so a test sets up exactly what production would store and audit.
 */

/** A user that acts through core's services (no key). */
export interface TestActor {
  id: number
  name: string
  role: string
  principal: Principal
  /** The context to act as this user in core's services. */
  ctx: ActionContext
}

/** A user with one API key. */
export interface TestUser extends TestActor {
  key: string
  keyId: number
}

export interface Fixtures {
  /** Creates a user named `name` (names are unique per database) with one API key. */
  user(name: string, role?: string): Promise<TestUser>
  /** Creates a user named `name` without a key. */
  actor(name: string, role?: string): Promise<TestActor>
  /** Creates a strategy (its name is its id) owned by `owner`. */
  strategy(id: string, owner: TestActor, visibility?: 'public' | 'private'): Promise<StrategyView>
  /** Subscribes `user` to `strategyId`, to every symbol or to `symbols` only. */
  subscribe(user: TestActor, strategyId: string, symbols?: string[]): Promise<SubscriptionView>
}

/** `prefix` and eight random hex digits: a name no other test, or test process, picks. */
export function uniqueId(prefix: string): string {
  return `${prefix}${randomBytes(4).toString('hex')}`
}

export function fixtures(core: Core): Fixtures {
  const operator = cliContext('test')
  const actor = async (name: string, role = 'subscriber'): Promise<TestActor> => {
    const user = await core.users.create(operator, { name, role })
    const principal: Principal = { userId: user.id, userName: user.name, role: user.role, keyId: null, keyPrefix: null }
    return { id: user.id, name: user.name, role: user.role, principal, ctx: { principal, ip: '127.0.0.1', requestId: `test-${user.name}` } }
  }
  return {
    actor,
    async user(name, role = 'subscriber') {
      const created = await actor(name, role)
      const issued = await core.apiKeys.create(operator, created.id)
      const principal: Principal = { ...created.principal, keyId: issued.id, keyPrefix: issued.prefix }
      return { ...created, principal, ctx: { ...created.ctx, principal }, key: issued.key, keyId: issued.id }
    },
    strategy: (id, owner, visibility = 'public') => core.strategies.create(operator, { id, name: id, owner_id: owner.id, visibility }),
    async subscribe(user, strategyId, symbols) {
      const added = await core.subscriptions.add(operator, { strategy_id: strategyId, user_id: user.id, symbols: symbols ?? null })
      return added.subscription
    }
  }
}
