import type { Principal } from '../../../../core/principal'
import { PolicyStore, loadPolicySnapshot } from '../../../../core/policy/policy-store'
import { Database } from '../../../../models/database'
import { migrate } from '../../../../models/migrate'
import { scratchDatabase, type ScratchDatabase } from '../../../helpers/database'

function principal(userId: number, userName: string, role: string): Principal {
  return { userId, userName, role, keyId: null, keyPrefix: null }
}

describe('PolicyStore', () => {
  let scratch: ScratchDatabase
  let db: Database
  let pub: Principal
  let sub: Principal

  beforeEach(async () => {
    scratch = await scratchDatabase()
    db = new Database(scratch.url)
    await migrate(db)
    const { User, Strategy, Subscription } = db.models
    const p = await User.create({ name: 'pub', contact: null, role: 'publisher' })
    const s = await User.create({ name: 'sub', contact: null, role: 'subscriber' })
    pub = principal(p.id, p.name, p.role)
    sub = principal(s.id, s.name, s.role)
    await Strategy.create({ id: 's1', name: 'S1', owner_id: p.id })
    await Strategy.create({ id: 's2', name: 'S2', owner_id: p.id, visibility: 'private' })
    await Subscription.create({ user_id: s.id, strategy_id: 's1', symbols: null })
    await Subscription.create({ user_id: s.id, strategy_id: 's2', symbols: JSON.stringify(['AAPL']) })
    await Strategy.create({ id: 's3', name: 'S3', owner_id: p.id })
    await Subscription.create({ user_id: s.id, strategy_id: 's3', symbols: null, status: 'cancelled' })
  })

  afterEach(async () => {
    await db.close()
    await scratch.drop()
  })

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

  test('reload after cancelling a subscription and adding a user deny changes the decisions and the version', async () => {
    const store = new PolicyStore(db)
    const versions: number[] = []
    store.on('changed', (v: number) => versions.push(v))
    await store.reload()
    expect(store.current.can(sub, 'subscribe', 'strategy/s1/AAPL')).toBe(true)
    expect(store.current.can(pub, 'publish', 'strategy/s2/AAPL')).toBe(true)

    await db.models.Subscription.update({ status: 'cancelled' }, { where: { user_id: sub.userId, strategy_id: 's1' } })
    await db.models.Permission.create({ role_id: null, user_id: pub.userId, action: 'publish', topic: 'strategy/s2/#', effect: 'deny' })
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
    const role = await db.models.Role.findOne({ where: { name: 'subscriber' } })
    await db.models.Permission.create({ role_id: role?.id ?? null, user_id: null, action: 'subscribe', topic: 'news/#', effect: 'allow' })
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
    const write = db.models.Strategy.create({ id: 's4', name: 'S4', owner_id: pub.userId })
    await write
    const second = store.reload()
    await Promise.all([first, second])
    expect(store.current.can(pub, 'publish', 'strategy/s4/AAPL')).toBe(true)
  })

  test('reload when the database fails rejects and keeps the current policy', async () => {
    const store = new PolicyStore(db)
    await store.reload()
    const current = store.current
    await db.close()
    await expect(store.reload()).rejects.toThrow()
    expect(store.current).toBe(current)
    expect(store.version).toBe(1)
    db = new Database(scratch.url)
  })
})
