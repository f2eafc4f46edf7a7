import { cliContext } from '../../../../core/action-context'
import type { Principal } from '../../../../core/principal'
import { PolicyStore, loadPolicySnapshot } from '../../../../core/policy/policy-store'
import { Database } from '../../../../models/database'
import { startCore, type TestNode } from '../../../helpers/node'

/**
 * A PolicyStore of the test's own, on the test's own connection to a database that a core
 * fills through its services: what the store loads is exactly what production writes.
 */
describe('PolicyStore', () => {
  let node: TestNode
  let db: Database
  let pub: Principal
  let sub: Principal

  beforeEach(async () => {
    node = await startCore()
    db = node.database()
    const p = await node.actor('pub', 'publisher')
    const s = await node.actor('sub', 'subscriber')
    pub = p.principal
    sub = s.principal
    await node.strategy('s1', p)
    await node.strategy('s2', p, 'private')
    await node.strategy('s3', p)
    await node.subscribe(s, 's1')
    await node.subscribe(s, 's2', ['AAPL'])
    await node.subscribe(s, 's3')
    // no service cancels a subscription (removing one deletes it); the loader must still skip one
    await db.models.Subscription.update({ status: 'cancelled' }, { where: { user_id: s.id, strategy_id: 's3' } })
  })

  afterEach(async () => node.shutdown())

  test('loadPolicySnapshot on a seeded database returns roles, strategies and only active subscriptions', async () => {
    const snapshot = await loadPolicySnapshot(db)
    expect([...snapshot.roleRules.keys()].sort()).toEqual(['admin', 'publisher', 'subscriber'])
    expect(snapshot.roleRules.get('admin')).toContainEqual({ action: 'admin', topic: '#', effect: 'allow' })
    expect(snapshot.strategies.get('s2')).toEqual({ ownerId: pub.userId, visibility: 'private' })
    expect(snapshot.subscriptions.get(sub.userId)).toEqual(new Map([['s1', null], ['s2', ['AAPL']]]))
  })

  test('reload after creating rows returns decisions from the database', async () => {
    const store = new PolicyStore(db)
    expect(store.version).toBe(0)
    expect(store.current.can(pub, 'publish', 'strategy/s1/AAPL')).toBe(false)
    await store.reload()
    expect(store.version).toBe(1)
    const policy = store.current
    expect(policy.can(pub, 'publish', 'strategy/s1/AAPL')).toBe(true)
    expect(policy.can(sub, 'publish', 'strategy/s1/AAPL')).toBe(false)
    expect(policy.can(sub, 'subscribe', 'strategy/s1/#')).toBe(true)
    expect(policy.can(sub, 'subscribe', 'strategy/s2/AAPL')).toBe(true)
    expect(policy.can(sub, 'subscribe', 'strategy/s2/TSLA')).toBe(false)
    expect(policy.can(sub, 'subscribe', 'strategy/s3/AAPL')).toBe(false)
    expect(policy.can(sub, 'subscribe', `users/${sub.userId}/reports`)).toBe(true)
    expect(policy.readableStrategies(sub)).toEqual(['s1', 's2'])
  })

  test('reload after removing a subscription and adding a user deny changes the decisions and the version', async () => {
    const store = new PolicyStore(db)
    const versions: number[] = []
    store.on('changed', (v: number) => versions.push(v))
    await store.reload()
    expect(store.current.can(sub, 'subscribe', 'strategy/s1/AAPL')).toBe(true)
    expect(store.current.can(pub, 'publish', 'strategy/s2/AAPL')).toBe(true)

    const [subscription] = (await node.core.subscriptions.list(cliContext(), { user_id: sub.userId, strategy_id: 's1' })).data
    await node.core.subscriptions.remove(cliContext(), subscription.id)
    await node.core.permissions.add(cliContext(), { userId: pub.userId }, { action: 'publish', topic: 'strategy/s2/#', effect: 'deny' })
    const before = store.current
    await store.reload()

    expect(store.version).toBe(2)
    expect(versions).toEqual([1, 2])
    expect(before.can(sub, 'subscribe', 'strategy/s1/AAPL')).toBe(true)
    expect(store.current.can(sub, 'subscribe', 'strategy/s1/AAPL')).toBe(false)
    expect(store.current.can(pub, 'publish', 'strategy/s2/AAPL')).toBe(false)
    expect(store.current.can(pub, 'publish', 'strategy/s1/AAPL')).toBe(true)
  })

  test('reload after a role permission change applies it to every user of the role', async () => {
    const store = new PolicyStore(db)
    await store.reload()
    expect(store.current.can(sub, 'subscribe', 'news/today')).toBe(false)
    await node.core.permissions.add(cliContext(), { role: 'subscriber' }, { action: 'subscribe', topic: 'news/#', effect: 'allow' })
    await store.reload()
    expect(store.current.can(sub, 'subscribe', 'news/today')).toBe(true)
    expect(store.current.can(pub, 'subscribe', 'news/today')).toBe(false)
  })

  test('reload called five times at once runs at most two loads', async () => {
    const store = new PolicyStore(db)
    await Promise.all([store.reload(), store.reload(), store.reload(), store.reload(), store.reload()])
    expect(store.version).toBe(2)
    await store.reload()
    expect(store.version).toBe(3)
  })

  test('reload while a load runs sees rows written after the first call', async () => {
    const store = new PolicyStore(db)
    const first = store.reload()
    await node.core.strategies.create(cliContext(), { id: 's4', name: 'S4', owner_id: pub.userId })
    const second = store.reload()
    await Promise.all([first, second])
    expect(store.current.can(pub, 'publish', 'strategy/s4/AAPL')).toBe(true)
  })

  test('reload when the database fails rejects and keeps the current policy', async () => {
    const own = new Database(node.scratch.url)
    const store = new PolicyStore(own)
    await store.reload()
    const current = store.current
    await own.close()
    await expect(store.reload()).rejects.toThrow()
    expect(store.current).toBe(current)
    expect(store.version).toBe(1)
  })
})
