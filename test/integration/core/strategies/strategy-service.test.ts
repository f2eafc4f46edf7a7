import type { Core } from '../../../../core/core'
import type { StrategyService } from '../../../../core/strategies/strategy-service'
import type { ActionContext } from '../../../../core/action-context'
import { startCore, type TestNode } from '../../../helpers/node'

describe('StrategyService', () => {
  let node: TestNode
  let core: Core
  let strategies: StrategyService
  let admin: ActionContext
  let pub: ActionContext
  let other: ActionContext
  let sub: ActionContext

  beforeEach(async () => {
    node = await startCore()
    core = node.core
    strategies = core.strategies
    admin = (await node.actor('root', 'admin')).ctx
    pub = (await node.actor('pub', 'publisher')).ctx
    other = (await node.actor('other', 'publisher')).ctx
    sub = (await node.actor('sub', 'subscriber')).ctx
  })

  afterEach(async () => node.shutdown())

  test('create by a publisher makes it the owner and lets it publish at once', async () => {
    const s = await strategies.create(pub, { id: 'alpha.1', name: 'Alpha' })
    expect(s).toMatchObject({ id: 'alpha.1', owner_id: pub.principal.userId, visibility: 'public', last_seq: 0, description: '' })
    expect(core.policy.current.can(pub.principal, 'publish', 'strategy/alpha.1/BTC')).toBe(true)
    expect(core.policy.current.can(other.principal, 'publish', 'strategy/alpha.1/BTC')).toBe(false)
  })

  test('create for another owner is forbidden to a publisher and allowed to an admin', async () => {
    await expect(strategies.create(pub, { id: 's1', name: 's1', owner_id: other.principal.userId })).rejects.toMatchObject({ code: 'forbidden' })
    const s = await strategies.create(admin, { id: 's1', name: 's1', owner_id: other.principal.userId })
    expect(s.owner_id).toBe(other.principal.userId)
    await expect(strategies.create(admin, { id: 's2', name: 's2', owner_id: 999999 })).rejects.toMatchObject({ code: 'validation_failed' })
  })

  test('create by a subscriber is forbidden: its role may not publish', async () => {
    await expect(strategies.create(sub, { id: 's1', name: 's1' })).rejects.toMatchObject({ code: 'forbidden' })
  })

  test('create with a taken id is a conflict; a bad id fails validation', async () => {
    await strategies.create(pub, { id: 's1', name: 's1' })
    await expect(strategies.create(other, { id: 's1', name: 'again' })).rejects.toMatchObject({ code: 'conflict' })
    for (const id of ['', 'a/b', 'a b', 'x'.repeat(65), 'a+b']) {
      await expect(strategies.create(pub, { id, name: 'n' })).rejects.toMatchObject({ code: 'validation_failed' })
    }
  })

  test('list shows public, own and subscribed strategies; admins see all', async () => {
    await strategies.create(pub, { id: 'a-public', name: 'a' })
    await strategies.create(pub, { id: 'b-private', name: 'b', visibility: 'private' })
    await strategies.create(other, { id: 'c-private', name: 'c', visibility: 'private' })
    await strategies.create(other, { id: 'd-private', name: 'd', visibility: 'private' })
    await core.subscriptions.add(other, { strategy_id: 'd-private', user_id: sub.principal.userId })
    const ids = async (ctx: ActionContext) => (await strategies.list(ctx)).data.map((s) => s.id)
    expect(await ids(sub)).toEqual(['a-public', 'd-private'])
    expect(await ids(pub)).toEqual(['a-public', 'b-private'])
    expect(await ids(admin)).toEqual(['a-public', 'b-private', 'c-private', 'd-private'])
    const first = await strategies.list(admin, { limit: 3 })
    const second = await strategies.list(admin, { limit: 3, cursor: first.next_cursor ?? undefined })
    expect([...first.data, ...second.data].map((s) => s.id)).toEqual(['a-public', 'b-private', 'c-private', 'd-private'])
    expect(second.next_cursor).toBeNull()
  })

  test('get of a private strategy the caller cannot see is not found', async () => {
    await strategies.create(pub, { id: 'secret', name: 's', visibility: 'private' })
    await expect(strategies.get(sub, 'secret')).rejects.toMatchObject({ code: 'not_found' })
    expect((await strategies.get(admin, 'secret')).id).toBe('secret')
  })

  test('update by the owner or an admin; others are forbidden', async () => {
    await strategies.create(pub, { id: 's1', name: 's1' })
    expect((await strategies.update(pub, 's1', { name: 'renamed', visibility: 'private' })).visibility).toBe('private')
    await expect(strategies.update(other, 's1', { name: 'x' })).rejects.toMatchObject({ code: 'not_found' })
    await strategies.update(pub, 's1', { visibility: 'public' })
    await expect(strategies.update(other, 's1', { name: 'x' })).rejects.toMatchObject({ code: 'forbidden' })
    await expect(strategies.update(pub, 's1', { owner_id: other.principal.userId })).rejects.toMatchObject({ code: 'forbidden' })
    expect((await strategies.update(admin, 's1', { owner_id: other.principal.userId })).owner_id).toBe(other.principal.userId)
    expect(core.policy.current.can(other.principal, 'publish', 'strategy/s1/X')).toBe(true)
    await expect(strategies.update(admin, 's1', {})).rejects.toMatchObject({ code: 'validation_failed' })
  })

  test('delete refuses a strategy with signals unless forced, then removes signals and subscriptions', async () => {
    await strategies.create(pub, { id: 's1', name: 's1' })
    await core.subscriptions.add(sub, { strategy_id: 's1' })
    const { items } = core.signals.parseRestBody({ strategy_id: 's1', symbol: 'X', type: 'buy', execute_date: '2026-11-21T09:30:00+08:00' })
    await core.signals.ingest(pub.principal, items, { source: 'rest' })
    await expect(strategies.delete(sub, 's1')).rejects.toMatchObject({ code: 'forbidden' })
    await expect(strategies.delete(pub, 's1')).rejects.toMatchObject({ code: 'conflict' })
    await strategies.delete(pub, 's1', { force: true })
    expect(await node.database().models.Signal.count()).toBe(0)
    expect((await core.subscriptions.list(admin)).data).toEqual([])
    expect(core.policy.current.can(sub.principal, 'subscribe', 'strategy/s1/#')).toBe(false)
    await expect(strategies.get(admin, 's1')).rejects.toMatchObject({ code: 'not_found' })
  })
})
