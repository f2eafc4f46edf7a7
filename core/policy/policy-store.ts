import { EventEmitter } from 'node:events'
import type { Database } from '../../models/database'
import { Policy, emptyPolicySnapshot, type PolicySnapshot, type Rule } from './policy'

/** Reads roles, permissions, strategies and active subscriptions into one snapshot. */
export async function loadPolicySnapshot(db: Database): Promise<PolicySnapshot> {
  const { Role, Permission, Strategy, Subscription } = db.models
  const [roles, permissions, strategies, subscriptions] = await Promise.all([
    Role.findAll({ attributes: ['id', 'name'] }),
    Permission.findAll({ attributes: ['role_id', 'user_id', 'action', 'topic', 'effect'], order: [['id', 'ASC']] }),
    Strategy.findAll({ attributes: ['id', 'owner_id', 'visibility'] }),
    Subscription.findAll({ attributes: ['user_id', 'strategy_id', 'symbols'], where: { status: 'active' } })
  ])

  const snapshot = emptyPolicySnapshot()
  const roleNames = new Map(roles.map((r) => [Number(r.id), r.name]))
  for (const p of permissions) {
    const rule: Rule = { action: p.action, topic: p.topic, effect: p.effect }
    const roleName = p.role_id === null ? undefined : roleNames.get(Number(p.role_id))
    if (roleName !== undefined) pushTo(snapshot.roleRules, roleName, rule)
    if (p.user_id !== null) pushTo(snapshot.userRules, Number(p.user_id), rule)
  }
  for (const s of strategies) {
    snapshot.strategies.set(s.id, { ownerId: Number(s.owner_id), visibility: s.visibility === 'private' ? 'private' : 'public' })
  }
  for (const s of subscriptions) {
    const userId = Number(s.user_id)
    const byStrategy = snapshot.subscriptions.get(userId) ?? new Map<string, string[] | null>()
    snapshot.subscriptions.set(userId, byStrategy)
    byStrategy.set(s.strategy_id, mergeSymbols(byStrategy.get(s.strategy_id), parseSymbols(s.symbols)))
  }
  return snapshot
}

function pushTo<K>(map: Map<K, Rule[]>, key: K, rule: Rule): void {
  const list = map.get(key)
  if (list === undefined) map.set(key, [rule])
  else list.push(rule)
}

/** A malformed symbol list grants no symbol rather than every symbol. */
function parseSymbols(text: string | null): string[] | null {
  if (text === null) return null
  try {
    const value: unknown = JSON.parse(text)
    return Array.isArray(value) ? value.filter((s): s is string => typeof s === 'string') : []
  } catch {
    return []
  }
}

/** Two active subscriptions to one strategy grant the union of their symbols. */
function mergeSymbols(existing: string[] | null | undefined, added: string[] | null): string[] | null {
  if (existing === undefined) return added
  if (existing === null || added === null) return null
  return [...new Set([...existing, ...added])]
}

/**
 * Holds the current `Policy` and replaces it whole on `reload()`. Readers take
 * `current` synchronously; 'changed' (with the new version) fires after each swap.
 */
export class PolicyStore extends EventEmitter {
  current: Policy = new Policy(emptyPolicySnapshot())
  version = 0
  private running: Promise<void> | null = null
  private queued: Promise<void> | null = null

  constructor(private readonly db: Database) {
    super()
  }

  /**
   * Loads a fresh snapshot. Calls made while a load runs share one more load after
   * it, so each caller sees data at least as new as its call, without N loads.
   */
  reload(): Promise<void> {
    if (this.queued !== null) return this.queued
    if (this.running !== null) {
      const queued = this.running.catch(() => undefined).then(() => {
        this.queued = null
        return this.start()
      })
      this.queued = queued
      return queued
    }
    return this.start()
  }

  private start(): Promise<void> {
    const run: Promise<void> = this.load().finally(() => {
      if (this.running === run) this.running = null
    })
    this.running = run
    return run
  }

  private async load(): Promise<void> {
    const snapshot = await loadPolicySnapshot(this.db)
    this.current = new Policy(snapshot)
    this.version += 1
    this.emit('changed', this.version)
  }
}
