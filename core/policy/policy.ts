import { ACTIONS, type Action, type Principal } from '../principal'
import { isValidTopicFilter, isValidTopicName, levelsCover, levelsIntersect, splitLevels } from './topic-filter'

export type RuleEffect = 'allow' | 'deny'

/** One permission: `effect` for `action` on the topic filter `topic` (may hold `${user_id}`, `${user_name}`, `${client_id}`). */
export interface Rule {
  action: Action
  topic: string
  effect: RuleEffect
}

export interface StrategyAccess {
  ownerId: number
  visibility: 'public' | 'private'
}

/** Everything the policy decides from, loaded at once so that `can` never waits on I/O. */
export interface PolicySnapshot {
  /** Rules by role name. */
  roleRules: Map<string, Rule[]>
  /** Rules granted to single users, by user id. */
  userRules: Map<number, Rule[]>
  /** Strategies by id. */
  strategies: Map<string, StrategyAccess>
  /** Active subscriptions: user id → strategy id → symbols (null = every symbol). */
  subscriptions: Map<number, Map<string, string[] | null>>
}

export type DenyReason =
  | 'invalid-action'
  | 'invalid-topic'
  | 'system-topic'
  | 'wildcard-too-wide'
  | 'strategy-topic-shape'
  | 'unknown-strategy'
  | 'not-owner'
  | 'not-subscribed'
  | 'symbol-not-subscribed'
  | 'other-user'
  | 'rule-deny'
  | 'no-allow-rule'

export interface PolicyDecision {
  allowed: boolean
  reason: 'allowed' | DenyReason
}

export function emptyPolicySnapshot(): PolicySnapshot {
  return { roleRules: new Map(), userRules: new Map(), strategies: new Map(), subscriptions: new Map() }
}

interface CompiledRules {
  allow: string[][]
  deny: string[][]
}

interface PrincipalRules {
  byAction: Record<Action, CompiledRules>
  admin: boolean
}

/** Symbols of one subscription; null = every symbol. */
type Entitlement = ReadonlySet<string> | null

const ADMIN_TOPIC = ['admin']
const PLACEHOLDER = /\$\{(user_id|user_name|client_id)\}/g
const MAX_CACHED_PRINCIPALS = 10_000
const UNSAFE_VALUE = /[/+#]|\0/

/**
 * The one access policy for MQTT and REST. Immutable: a new snapshot means a new
 * `Policy`, so the per-principal rule cache never needs invalidating. `can` is
 * synchronous and does no I/O because Aedes' `authorizeForward` is synchronous.
 */
export class Policy {
  private readonly snapshot: PolicySnapshot
  private readonly entitlements = new Map<number, Map<string, Entitlement>>()
  private readonly owned = new Map<number, string[]>()
  private readonly cache = new Map<string, PrincipalRules>()

  constructor(snapshot: PolicySnapshot) {
    this.snapshot = snapshot
    for (const [userId, byStrategy] of snapshot.subscriptions) {
      const map = new Map<string, Entitlement>()
      for (const [strategyId, symbols] of byStrategy) map.set(strategyId, symbols === null ? null : new Set(symbols))
      this.entitlements.set(userId, map)
    }
    for (const [id, strategy] of snapshot.strategies) {
      const list = this.owned.get(strategy.ownerId) ?? []
      list.push(id)
      this.owned.set(strategy.ownerId, list)
    }
  }

  can(principal: Principal, action: Action, topicOrFilter: string): boolean {
    return this.evaluate(principal, action, topicOrFilter) === null
  }

  /** The same decision as `can`, with the reason, for audit logs and error details. */
  explain(principal: Principal, action: Action, topicOrFilter: string): PolicyDecision {
    const reason = this.evaluate(principal, action, topicOrFilter)
    return { allowed: reason === null, reason: reason ?? 'allowed' }
  }

  /** An allow rule for `admin` on topic `admin` and no deny for it. */
  isAdmin(principal: Principal): boolean {
    return this.rulesFor(principal).admin
  }

  strategyExists(strategyId: string): boolean {
    return this.snapshot.strategies.has(strategyId)
  }

  /** Strategy ids the principal may read (owned or subscribed, and not denied by rules); 'all' for admins. */
  readableStrategies(principal: Principal): string[] | 'all' {
    const rules = this.rulesFor(principal)
    if (rules.admin) return 'all'
    const candidates = new Set(this.owned.get(principal.userId) ?? [])
    for (const id of this.entitlements.get(principal.userId)?.keys() ?? []) {
      if (this.snapshot.strategies.has(id)) candidates.add(id)
    }
    const read = rules.byAction.read
    return [...candidates].filter((id) => {
      const levels = ['strategy', id, '#']
      return !read.deny.some((d) => levelsCover(d, levels)) && read.allow.some((a) => levelsIntersect(a, levels))
    }).sort()
  }

  /** null when allowed, otherwise why not. */
  private evaluate(principal: Principal, action: Action, topic: string): DenyReason | null {
    if (!ACTIONS.includes(action)) return 'invalid-action'
    const valid = action === 'publish' ? isValidTopicName(topic) : isValidTopicFilter(topic)
    if (!valid) return 'invalid-topic'
    const levels = splitLevels(topic)
    const rules = this.rulesFor(principal)
    if (levels[0].startsWith('$')) {
      // the server publishes $SYS itself; clients never do [MQTT-4.7.2-1 keeps `#` away from it]
      if (action === 'publish' || action === 'admin' || !rules.admin) return 'system-topic'
      return checkRules(rules.byAction[action], levels, false)
    }
    return this.checkArea(principal, action, levels, rules.admin) ?? checkRules(rules.byAction[action], levels, true)
  }

  private checkArea(principal: Principal, action: Action, levels: string[], admin: boolean): DenyReason | null {
    const first = levels[0]
    if (first === '+' || first === '#') return admin ? null : 'wildcard-too-wide'
    if (first === 'strategy') return this.checkStrategy(principal, action, levels, admin)
    if (first === 'users') return admin || levels[1] === String(principal.userId) ? null : 'other-user'
    return null
  }

  private checkStrategy(principal: Principal, action: Action, levels: string[], admin: boolean): DenyReason | null {
    const id = levels[1]
    if (action === 'publish') {
      if (levels.length !== 3 || id === '' || levels[2] === '') return 'strategy-topic-shape'
      const strategy = this.snapshot.strategies.get(id)
      if (strategy === undefined) return 'unknown-strategy'
      return admin || strategy.ownerId === principal.userId ? null : 'not-owner'
    }
    if (admin) return null
    if (id === undefined || id === '+' || id === '#') return 'wildcard-too-wide'
    const strategy = this.snapshot.strategies.get(id)
    if (strategy === undefined) return 'unknown-strategy'
    if (strategy.ownerId === principal.userId) return null
    const symbols = this.entitlements.get(principal.userId)?.get(id)
    if (symbols === undefined) return 'not-subscribed'
    if (symbols === null) return null
    const symbol = levels[2]
    if (symbol === '+' || symbol === '#') return 'wildcard-too-wide'
    return symbol !== undefined && symbols.has(symbol) ? null : 'symbol-not-subscribed'
  }

  private rulesFor(principal: Principal): PrincipalRules {
    const key = `${principal.role}\u0000${principal.userId}\u0000${principal.userName}\u0000${principal.clientId ?? '\u0000'}`
    let rules = this.cache.get(key)
    if (rules === undefined) {
      rules = this.compile(principal)
      if (this.cache.size >= MAX_CACHED_PRINCIPALS) this.cache.clear()
      this.cache.set(key, rules)
    }
    return rules
  }

  private compile(principal: Principal): PrincipalRules {
    const byAction = Object.fromEntries(ACTIONS.map((a) => [a, { allow: [], deny: [] }])) as unknown as Record<Action, CompiledRules>
    const all = [...(this.snapshot.roleRules.get(principal.role) ?? []), ...(this.snapshot.userRules.get(principal.userId) ?? [])]
    for (const rule of all) {
      const target = byAction[rule.action]
      if (target === undefined || (rule.effect !== 'allow' && rule.effect !== 'deny')) continue
      const levels = resolvePlaceholders(rule, principal)
      if (levels !== null) target[rule.effect].push(levels)
    }
    return { byAction, admin: checkRules(byAction.admin, ADMIN_TOPIC, true) === null }
  }
}

/** Deny wins: any deny that could match one of the requested topics refuses; then one allow must cover them all. */
function checkRules(rules: CompiledRules, levels: string[], requireAllow: boolean): DenyReason | null {
  for (const deny of rules.deny) if (levelsIntersect(deny, levels)) return 'rule-deny'
  if (!requireAllow) return null
  for (const allow of rules.allow) if (levelsCover(allow, levels)) return null
  return 'no-allow-rule'
}

function placeholderValue(name: string, principal: Principal): string | undefined {
  switch (name) {
    case 'user_id': return String(principal.userId)
    case 'user_name': return principal.userName
    case 'client_id': return principal.clientId
    default: return undefined
  }
}

/**
 * The rule's filter levels for this principal, or null when the rule does not apply.
 * A value holding `/`, `+` or `#` must not turn into a wildcard: such an allow rule is
 * dropped, and such a deny rule widens that level to `+` (refusing more, never less).
 */
function resolvePlaceholders(rule: Rule, principal: Principal): string[] | null {
  if (!rule.topic.includes('${')) return isValidTopicFilter(rule.topic) ? splitLevels(rule.topic) : null
  const levels: string[] = []
  for (const template of splitLevels(rule.topic)) {
    let missing = false
    let unsafe = false
    const level = template.replace(PLACEHOLDER, (_match, name: string) => {
      const value = placeholderValue(name, principal)
      if (value === undefined) missing = true
      else if (value === '' || UNSAFE_VALUE.test(value)) unsafe = true
      return value ?? ''
    })
    if (missing) return null
    if (unsafe && rule.effect === 'allow') return null
    levels.push(unsafe ? '+' : level)
  }
  return isValidTopicFilter(levels.join('/')) ? levels : null
}
