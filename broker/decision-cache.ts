import type { PolicyStore } from '../core/policy/policy-store'
import type { Action, Principal } from '../core/principal'

const MAX_CACHED_TOPICS = 10_000

/**
 * One connection's policy decisions per topic, for one action. Valid for one policy
 * version: when the policy reloads (`PolicyStore.version` moves on) it starts empty, so a
 * changed permission, subscription or strategy is seen by the next check.
 */
export class DecisionCache {
  private version = -1
  private readonly decisions = new Map<string, boolean>()

  constructor(private readonly action: Action) {}

  allows(store: PolicyStore, principal: Principal, topic: string): boolean {
    if (this.version !== store.version) {
      this.decisions.clear()
      this.version = store.version
    }
    let allowed = this.decisions.get(topic)
    if (allowed === undefined) {
      allowed = store.current.can(principal, this.action, topic)
      if (this.decisions.size >= MAX_CACHED_TOPICS) this.decisions.clear()
      this.decisions.set(topic, allowed)
    }
    return allowed
  }
}
