import type { Core } from '../../../../core/core'
import type { SubscriptionService } from '../../../../core/subscriptions/subscription-service'
import type { ActionContext } from '../../../../core/action-context'
import { startCore, type TestNode } from '../../../helpers/node'

describe('SubscriptionService', () => {
  let node: TestNode
  let core: Core
  let subs: SubscriptionService
  let admin: ActionContext
  let owner: ActionContext
  let sub: ActionContext
  let sub2: ActionContext

  beforeEach(async () => {
    node = await startCore()
    core = node.core
    subs = core.subscriptions
    admin = (await node.actor('root', 'admin')).ctx
    owner = (await node.actor('owner', 'publisher')).ctx
    sub = (await node.actor('sub', 'subscriber')).ctx
    sub2 = (await node.actor('sub2', 'subscriber')).ctx
    await core.strategies.create(owner, { id: 'pub1', name: 'public one' })
    await core.strategies.create(owner, { id: 'priv1', name: 'private one', visibility: 'private' })
  })

  afterEach(async () => node.shutdown())

  test('a subscriber subscribes itself to a public strategy and may then subscribe over MQTT', async () => {
    expect(core.policy.current.can(sub.principal, 'subscribe', 'strategy/pub1/#')).toBe(false)
    const added = await subs.add(sub, { strategy_id: 'pub1' })
    expect(added.created).toBe(true)
    expect(added.subscription).toMatchObject({ user_id: sub.principal.userId, strategy_id: 'pub1', symbols: null, status: 'active' })
    expect(core.policy.current.can(sub.principal, 'subscribe', 'strategy/pub1/#')).toBe(true)
  })

  test('a subscriber may not subscribe itself to a private strategy', async () => {
    await expect(subs.add(sub, { strategy_id: 'priv1' })).rejects.toMatchObject({ status: 404 })
    await subs.add(owner, { strategy_id: 'priv1', user_id: sub.principal.userId })
    // visible now, but changing a granted private subscription is still the owner's call
    await expect(subs.add(sub, { strategy_id: 'priv1', symbols: ['X'] })).rejects.toMatchObject({ code: 'forbidden' })
  })

  test('the owner grants a private strategy, limited to symbols', async () => {
    const added = await subs.add(owner, { strategy_id: 'priv1', user_id: sub.principal.userId, symbols: ['BTC', 'ETH', 'BTC'] })
    expect(added.subscription.symbols).toEqual(['BTC', 'ETH'])
    expect(core.policy.current.can(sub.principal, 'subscribe', 'strategy/priv1/BTC')).toBe(true)
    expect(core.policy.current.can(sub.principal, 'subscribe', 'strategy/priv1/DOGE')).toBe(false)
  })

  test('a user may not subscribe someone else unless admin or owner', async () => {
    await expect(subs.add(sub, { strategy_id: 'pub1', user_id: sub2.principal.userId })).rejects.toMatchObject({ code: 'forbidden' })
    await expect(subs.add(admin, { strategy_id: 'pub1', user_id: 999999 })).rejects.toMatchObject({ code: 'validation_failed' })
    expect((await subs.add(admin, { strategy_id: 'priv1', user_id: sub2.principal.userId })).created).toBe(true)
  })

  test('a role without a subscribe rule may not subscribe itself', async () => {
    const permissions = core.permissions
    await permissions.createRole(admin, { name: 'viewer' })
    const viewer = (await node.actor('viewer', 'viewer')).ctx
    await expect(subs.add(viewer, { strategy_id: 'pub1' })).rejects.toMatchObject({ code: 'forbidden' })
    await permissions.add(admin, { role: 'viewer' }, { action: 'subscribe', topic: 'strategy/#', effect: 'allow' })
    await permissions.add(admin, { userId: viewer.principal.userId }, { action: 'subscribe', topic: 'strategy/pub1/DOGE', effect: 'deny' })
    await expect(subs.add(viewer, { strategy_id: 'pub1' })).rejects.toMatchObject({ code: 'forbidden' })
    expect((await subs.add(viewer, { strategy_id: 'pub1', symbols: ['BTC'] })).created).toBe(true)
  })

  test('adding again updates the symbols of the one subscription', async () => {
    const first = await subs.add(sub, { strategy_id: 'pub1', symbols: ['A'] })
    const again = await subs.add(sub, { strategy_id: 'pub1', symbols: ['B'] })
    expect(again.created).toBe(false)
    expect(again.subscription.id).toBe(first.subscription.id)
    expect(again.subscription.symbols).toEqual(['B'])
    expect(core.policy.current.can(sub.principal, 'subscribe', 'strategy/pub1/A')).toBe(false)
  })

  test('invalid input fails validation', async () => {
    await expect(subs.add(sub, { strategy_id: 'a/b' })).rejects.toMatchObject({ code: 'validation_failed' })
    await expect(subs.add(sub, { strategy_id: 'pub1', symbols: ['A B'] })).rejects.toMatchObject({ code: 'validation_failed' })
    await expect(subs.add(sub, { strategy_id: 'pub1', symbols: [] })).rejects.toMatchObject({ code: 'validation_failed' })
    await expect(subs.add(sub, { strategy_id: 'pub1', symbols: Array.from({ length: 101 }, (_, i) => `S${i}`) })).rejects.toMatchObject({ code: 'validation_failed' })
    await expect(subs.add(sub, { strategy_id: 'missing' })).rejects.toMatchObject({ code: 'not_found' })
  })

  test('list: self by default, admin by user, owner by strategy', async () => {
    await subs.add(sub, { strategy_id: 'pub1' })
    await subs.add(sub2, { strategy_id: 'pub1' })
    await subs.add(owner, { strategy_id: 'priv1', user_id: sub2.principal.userId })
    expect((await subs.list(sub)).data.map((s) => s.strategy_id)).toEqual(['pub1'])
    await expect(subs.list(sub, { user_id: sub2.principal.userId })).rejects.toMatchObject({ code: 'forbidden' })
    expect((await subs.list(admin, { user_id: sub2.principal.userId })).data.map((s) => s.strategy_id)).toEqual(['pub1', 'priv1'])
    expect((await subs.list(admin)).data).toHaveLength(3)
    expect((await subs.list(owner, { strategy_id: 'pub1' })).data.map((s) => s.user_id)).toEqual([sub.principal.userId, sub2.principal.userId])
    expect((await subs.list(sub, { strategy_id: 'pub1' })).data.map((s) => s.user_id)).toEqual([sub.principal.userId])
  })

  test('remove by the subscriber, the owner or an admin; others are forbidden', async () => {
    const a = await subs.add(sub, { strategy_id: 'pub1' })
    await expect(subs.remove(sub2, a.subscription.id)).rejects.toMatchObject({ code: 'forbidden' })
    await subs.remove(sub, a.subscription.id)
    expect(core.policy.current.can(sub.principal, 'subscribe', 'strategy/pub1/#')).toBe(false)
    const b = await subs.add(sub, { strategy_id: 'pub1' })
    await subs.remove(owner, b.subscription.id)
    const c = await subs.add(sub, { strategy_id: 'pub1' })
    await subs.remove(admin, c.subscription.id)
    await expect(subs.remove(admin, c.subscription.id)).rejects.toMatchObject({ code: 'not_found' })
  })

  test('every change announces a policy change', async () => {
    const changes: unknown[] = []
    core.bus.on('change', (c) => changes.push(c))
    const a = await subs.add(sub, { strategy_id: 'pub1' })
    await subs.remove(sub, a.subscription.id)
    expect(changes).toEqual([{ kind: 'policy' }, { kind: 'policy' }])
  })
})
