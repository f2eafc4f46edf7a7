import type { Action, Principal } from '../../../../core/principal'
import { Policy, emptyPolicySnapshot, type PolicySnapshot, type Rule } from '../../../../core/policy/policy'
import { DEFAULT_ROLES } from '../../../../models/migrations/002-default-roles'

function rules(...list: Array<[Action, string, 'allow' | 'deny']>): Rule[] {
  return list.map(([action, topic, effect]) => ({ action, topic, effect }))
}

function principal(userId: number, userName: string, role: string, clientId?: string): Principal {
  return { userId, userName, role, keyId: userId, keyPrefix: `sh_${userName}`, clientId }
}

const who = {
  admin: principal(1, 'root', 'admin'),
  pub: principal(2, 'pub', 'publisher', 'pub-device-1'),
  pubNoClient: principal(2, 'pub', 'publisher'),
  pub2: principal(3, 'pub2', 'publisher'),
  sub: principal(4, 'sub', 'subscriber'),
  other: principal(5, 'other', 'subscriber'),
  deniedAdmin: principal(6, 'ops', 'admin'),
  oddName: principal(7, '+', 'subscriber'),
  nobody: principal(8, 'ghost', 'no-such-role')
}

function defaultSnapshot(): PolicySnapshot {
  const snapshot = emptyPolicySnapshot()
  for (const [name, role] of Object.entries(DEFAULT_ROLES)) {
    snapshot.roleRules.set(name, role.rules.map(([action, topic, effect]) => ({ action: action as Action, topic, effect })))
  }
  snapshot.userRules.set(2, rules(['publish', 'devices/${client_id}/#', 'allow']))
  snapshot.userRules.set(3, rules(['publish', 'strategy/s2/TSLA', 'deny']))
  snapshot.userRules.set(4, rules(['read', 'strategy/s1/TSLA', 'deny'], ['subscribe', 'inbox/${user_name}/#', 'allow']))
  snapshot.userRules.set(5, rules(['subscribe', 'news/#', 'allow'], ['subscribe', 'news/secret/#', 'deny']))
  snapshot.userRules.set(6, rules(['subscribe', 'strategy/s1/#', 'deny']))
  snapshot.userRules.set(7, rules(['subscribe', 'inbox/${user_name}/#', 'allow']))
  snapshot.strategies.set('s1', { ownerId: 2, visibility: 'public' })
  snapshot.strategies.set('s2', { ownerId: 3, visibility: 'private' })
  snapshot.strategies.set('s3', { ownerId: 3, visibility: 'public' })
  snapshot.subscriptions.set(4, new Map<string, string[] | null>([['s1', null], ['s2', ['AAPL', 'MSFT']]]))
  return snapshot
}

type Case = [keyof typeof who, Action, string, string, boolean]

const CASES: Case[] = [
  // publishing to strategies
  ['pub', 'publish', 'strategy/s1/AAPL', 'owner publishes to own strategy', true],
  ['pub', 'publish', 'strategy/s2/AAPL', 'publisher publishes to another owner\'s strategy', false],
  ['pub', 'publish', 'strategy/s1/+', 'publish topic holds a + wildcard', false],
  ['pub', 'publish', 'strategy/s1/#', 'publish topic holds a # wildcard', false],
  ['pub', 'publish', 'strategy/s1/AAPL/extra', 'publish topic has 4 levels', false],
  ['pub', 'publish', 'strategy/s1', 'publish topic has no symbol', false],
  ['pub', 'publish', 'strategy/s1/', 'publish topic has an empty symbol', false],
  ['pub', 'publish', 'strategy/nope/AAPL', 'publish to an unknown strategy', false],
  ['sub', 'publish', 'strategy/s1/AAPL', 'subscriber publishes to a strategy it reads', false],
  ['admin', 'publish', 'strategy/s2/AAPL', 'admin publishes to any strategy', true],
  ['admin', 'publish', 'strategy/nope/AAPL', 'admin publishes to an unknown strategy', false],
  ['pub2', 'publish', 'strategy/s2/TSLA', 'owner has a user deny over the role allow', false],
  ['pub2', 'publish', 'strategy/s2/AAPL', 'owner deny on one symbol leaves the others', true],
  // $SYS
  ['admin', 'subscribe', '$SYS/#', 'admin subscribes to $SYS', true],
  ['admin', 'read', '$SYS/broker/uptime', 'admin reads a $SYS topic', true],
  ['admin', 'publish', '$SYS/broker/uptime', 'admin publishes to $SYS', false],
  ['sub', 'subscribe', '$SYS/#', 'subscriber subscribes to $SYS', false],
  ['pub', 'subscribe', '$SYS/broker/uptime', 'publisher subscribes to a $SYS topic', false],
  // wildcard escalation
  ['sub', 'subscribe', '#', 'subscriber subscribes to everything', false],
  ['sub', 'subscribe', '+/AAPL', 'subscriber uses a first-level +', false],
  ['sub', 'subscribe', 'strategy/#', 'subscriber subscribes to every strategy', false],
  ['sub', 'subscribe', 'strategy/+/AAPL', 'subscriber uses + for the strategy id', false],
  ['pub', 'subscribe', 'strategy/#', 'publisher subscribes to every strategy', false],
  ['admin', 'subscribe', '#', 'admin subscribes to everything', true],
  ['admin', 'subscribe', 'strategy/+/AAPL', 'admin uses + for the strategy id', true],
  ['admin', 'subscribe', 'strategy/nope/#', 'admin subscribes to an unknown strategy', true],
  // subscriptions and ownership
  ['sub', 'subscribe', 'strategy/s1/#', 'unrestricted subscription, whole strategy', true],
  ['sub', 'subscribe', 'strategy/s1/+', 'unrestricted subscription, every symbol', true],
  ['sub', 'subscribe', 'strategy/s2/AAPL', 'symbol-limited subscription, listed symbol', true],
  ['sub', 'read', 'strategy/s2/MSFT', 'symbol-limited subscription, read a listed symbol', true],
  ['sub', 'subscribe', 'strategy/s2/TSLA', 'symbol-limited subscription, unlisted symbol', false],
  ['sub', 'subscribe', 'strategy/s2/+', 'symbol-limited subscription, + for the symbol', false],
  ['sub', 'subscribe', 'strategy/s2/#', 'symbol-limited subscription, # for the symbol', false],
  ['sub', 'subscribe', 'strategy/s2', 'symbol-limited subscription, no symbol level', false],
  ['sub', 'subscribe', 'strategy/s3/AAPL', 'no subscription to a public strategy', false],
  ['sub', 'subscribe', 'strategy/nope/AAPL', 'unknown strategy', false],
  ['sub', 'read', 'strategy/s1/TSLA', 'user read deny on one symbol', false],
  ['sub', 'read', 'strategy/s1/#', 'user read deny intersects the filter', false],
  ['sub', 'subscribe', 'strategy/s1/TSLA', 'read deny does not touch subscribe', true],
  ['other', 'subscribe', 'strategy/s1/AAPL', 'subscriber without any subscription', false],
  ['pub', 'subscribe', 'strategy/s1/#', 'owner subscribes to own strategy', true],
  ['pub', 'read', 'strategy/s2/AAPL', 'publisher reads another owner\'s strategy', false],
  ['deniedAdmin', 'subscribe', 'strategy/s1/AAPL', 'admin with a user deny on the topic', false],
  ['deniedAdmin', 'subscribe', '#', 'admin with a deny inside the filter', false],
  ['deniedAdmin', 'subscribe', 'strategy/s2/#', 'admin with a deny elsewhere', true],
  // users/<uid>
  ['sub', 'subscribe', 'users/4/reports', 'own users topic', true],
  ['sub', 'subscribe', 'users/4/#', 'own users subtree', true],
  ['sub', 'subscribe', 'users/5/reports', 'another user\'s topic', false],
  ['sub', 'subscribe', 'users/+/reports', 'users topic with + for the id', false],
  ['sub', 'subscribe', 'users/#', 'every users topic', false],
  ['sub', 'publish', 'users/4/reports', 'publish to own users topic without a rule', false],
  ['admin', 'subscribe', 'users/5/notices', 'admin on another user\'s topic', true],
  // placeholders
  ['pub', 'publish', 'devices/pub-device-1/status', '${client_id} resolves to the client id', true],
  ['pub', 'publish', 'devices/other-device/status', '${client_id} of another client', false],
  ['pubNoClient', 'publish', 'devices/pub-device-1/status', '${client_id} without a client id', false],
  ['sub', 'subscribe', 'inbox/sub/x', '${user_name} resolves to the user name', true],
  ['sub', 'subscribe', 'inbox/pub/x', '${user_name} of another user', false],
  ['oddName', 'subscribe', 'inbox/anything/x', '${user_name} holding a wildcard', false],
  // other topics: rules alone
  ['other', 'subscribe', 'news/sports', 'user allow rule', true],
  ['other', 'subscribe', 'news/secret/x', 'user deny under the allow', false],
  ['other', 'subscribe', 'news/#', 'filter intersects a deny', false],
  ['other', 'subscribe', 'news/+', 'filter reaches news/secret, the deny\'s parent match', false],
  ['sub', 'subscribe', 'weather/x', 'no rule at all', false],
  ['nobody', 'subscribe', 'users/8/reports', 'unknown role', false],
  // invalid input
  ['sub', 'subscribe', 'strategy/s1/#/x', '# not last', false],
  ['sub', 'subscribe', 'strategy/s1/AA+', '+ inside a level', false],
  ['sub', 'subscribe', '', 'empty filter', false],
  ['pub', 'publish', 'strategy/s1/A\u0000', 'NUL in the topic', false],
  ['admin', 'subscribe', 'a/#/b', 'admin with an invalid filter', false]
]

describe('Policy', () => {
  const policy = new Policy(defaultSnapshot())

  test.each(CASES)('can: %s %s %j when %s returns %s', (name, action, topic, _situation, expected) => {
    expect(policy.can(who[name], action, topic)).toBe(expected)
  })

  test('can with an action outside the list returns false', () => {
    expect(policy.can(who.admin, 'delete' as Action, 'x')).toBe(false)
  })

  test('can asked twice for one principal returns the same answer from the rule cache', () => {
    expect(policy.can(who.sub, 'subscribe', 'strategy/s1/#')).toBe(true)
    expect(policy.can(who.sub, 'subscribe', 'strategy/s1/#')).toBe(true)
    expect(policy.can(who.other, 'subscribe', 'strategy/s1/#')).toBe(false)
  })

  test('explain for a refused wildcard returns the reason', () => {
    expect(policy.explain(who.sub, 'subscribe', 'strategy/#')).toEqual({ allowed: false, reason: 'wildcard-too-wide' })
    expect(policy.explain(who.pub, 'publish', 'strategy/s2/AAPL')).toEqual({ allowed: false, reason: 'not-owner' })
    expect(policy.explain(who.sub, 'read', 'strategy/s1/TSLA')).toEqual({ allowed: false, reason: 'rule-deny' })
    expect(policy.explain(who.sub, 'subscribe', 'strategy/s1/AAPL')).toEqual({ allowed: true, reason: 'allowed' })
  })

  test('strategyExists for a known and an unknown id returns true and false', () => {
    expect(policy.strategyExists('s2')).toBe(true)
    expect(policy.strategyExists('nope')).toBe(false)
  })

  test('isAdmin for each seeded role returns true only for admin', () => {
    expect(policy.isAdmin(who.admin)).toBe(true)
    expect(policy.isAdmin(who.pub)).toBe(false)
    expect(policy.isAdmin(who.sub)).toBe(false)
    expect(policy.isAdmin(who.nobody)).toBe(false)
  })

  test('isAdmin with a user deny on admin returns false', () => {
    const snapshot = defaultSnapshot()
    snapshot.userRules.set(1, rules(['admin', 'admin', 'deny']))
    const denied = new Policy(snapshot)
    expect(denied.isAdmin(who.admin)).toBe(false)
    expect(denied.can(who.admin, 'subscribe', 'users/5/notices')).toBe(false)
    expect(denied.can(who.admin, 'subscribe', '$SYS/#')).toBe(false)
  })

  test('isAdmin with an admin rule granted to a single user returns true', () => {
    const snapshot = defaultSnapshot()
    snapshot.userRules.set(5, rules(['admin', 'admin', 'allow']))
    expect(new Policy(snapshot).isAdmin(who.other)).toBe(true)
  })

  test('readableStrategies for owners, subscribers and admins returns their entitled strategies', () => {
    expect(policy.readableStrategies(who.admin)).toBe('all')
    expect(policy.readableStrategies(who.pub)).toEqual(['s1'])
    expect(policy.readableStrategies(who.pub2)).toEqual(['s2', 's3'])
    expect(policy.readableStrategies(who.sub)).toEqual(['s1', 's2'])
    expect(policy.readableStrategies(who.other)).toEqual([])
  })

  test('readableStrategies with a read deny over a whole strategy leaves it out', () => {
    const snapshot = defaultSnapshot()
    snapshot.userRules.set(4, rules(['read', 'strategy/s2/#', 'deny']))
    snapshot.subscriptions.get(4)?.set('gone', null)
    expect(new Policy(snapshot).readableStrategies(who.sub)).toEqual(['s1'])
  })

  test('a deny rule whose placeholder value holds a separator widens to the whole level', () => {
    const snapshot = defaultSnapshot()
    snapshot.userRules.set(7, rules(['subscribe', 'inbox/#', 'allow'], ['subscribe', 'inbox/${user_name}/#', 'deny']))
    const odd = new Policy(snapshot)
    expect(odd.can(who.oddName, 'subscribe', 'inbox/anyone/x')).toBe(false)
    expect(odd.can(who.oddName, 'subscribe', 'inbox')).toBe(true)
  })

  test('a rule with an invalid topic filter is ignored', () => {
    const snapshot = defaultSnapshot()
    snapshot.userRules.set(5, rules(['subscribe', 'a/#/b', 'allow'], ['subscribe', 'news/#', 'allow']))
    expect(new Policy(snapshot).can(who.other, 'subscribe', 'a/x/b')).toBe(false)
    expect(new Policy(snapshot).can(who.other, 'subscribe', 'news/x')).toBe(true)
  })
})
