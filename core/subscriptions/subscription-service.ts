import { Op, UniqueConstraintError, type WhereOptions } from 'sequelize'
import type { Strategy } from '../../models/strategy.model'
import type { Subscription } from '../../models/subscription.model'
import type { Database } from '../../models/database'
import type { Operations } from '../operations'
import { AppError } from '../errors'
import { previewPolicy } from '../permissions/policy-preview'
import type { StrategyService } from '../strategies/strategy-service'
import { parseId, type ActionContext } from '../action-context'
import { decodeNumericCursor, pageLimit, toPage, type Page } from '../pagination'
import { parseInput } from '../parse-input'
import {
  addSubscriptionSchema, listSubscriptionsQuerySchema,
  type AddSubscriptionInput, type ListSubscriptionsQuery, type SubscriptionView
} from './subscription-schemas'

export function toSubscriptionView(s: Subscription): SubscriptionView {
  return {
    id: s.id,
    user_id: Number(s.user_id),
    strategy_id: s.strategy_id,
    symbols: s.symbolList(),
    status: s.status === 'cancelled' ? 'cancelled' : 'active',
    created_at: s.created_at.toISOString(),
    updated_at: s.updated_at.toISOString()
  }
}

export interface AddedSubscription {
  subscription: SubscriptionView
  /** false when an existing subscription of the same user to the same strategy was updated or reactivated. */
  created: boolean
}

/**
 * Who receives which strategy. A user subscribes itself to a public strategy when its
 * role's rules allow subscribing to it; a private strategy is granted by its owner or
 * an admin, who may also subscribe other users. Adding a subscription that exists
 * replaces its symbols and reactivates it (one row per user and strategy).
 */
export class SubscriptionService {
  constructor(private readonly db: Database, private readonly ops: Operations, private readonly strategies: StrategyService) {}

  async add(ctx: ActionContext, input: AddSubscriptionInput): Promise<AddedSubscription> {
    const data = parseInput(addSubscriptionSchema, input)
    const strategy = await this.strategies.visible(ctx, data.strategy_id)
    const userId = data.user_id ?? ctx.principal.userId
    const symbols = data.symbols == null ? null : [...new Set(data.symbols)]
    await this.assertMayGrant(ctx, strategy, userId, symbols)

    const { Subscription } = this.db.models
    const existing = await Subscription.findOne({ where: { user_id: userId, strategy_id: strategy.id } })
    const values = { symbols: symbols === null ? null : JSON.stringify(symbols), status: 'active' as const }
    let row: Subscription
    try {
      row = existing === null
        ? await Subscription.create({ user_id: userId, strategy_id: strategy.id, ...values })
        : await existing.update(values)
    } catch (err) {
      if (err instanceof UniqueConstraintError) throw new AppError('conflict', 'the subscription was created concurrently; retry')
      throw err
    }
    this.ops.record(ctx, existing === null ? 'subscription.add' : 'subscription.update', `subscription/${row.id}`, {
      user_id: userId, strategy_id: strategy.id, symbols: symbols?.length ?? 'all'
    })
    await this.ops.applyPolicyChange()
    return { subscription: toSubscriptionView(row), created: existing === null }
  }

  /**
   * The caller's subscriptions; an admin may list anyone's (`user_id`) or all, and a
   * strategy's owner may list its subscribers (`strategy_id`).
   */
  async list(ctx: ActionContext, query: ListSubscriptionsQuery = {}): Promise<Page<SubscriptionView>> {
    const q = parseInput(listSubscriptionsQuerySchema, query)
    const admin = this.ops.isAdmin(ctx)
    const self = ctx.principal.userId
    const conditions: WhereOptions<Subscription>[] = []
    const after = decodeNumericCursor(q.cursor)
    if (after !== undefined) conditions.push({ id: { [Op.gt]: after } })
    if (q.user_id !== undefined) conditions.push({ user_id: q.user_id })
    if (q.strategy_id !== undefined) conditions.push({ strategy_id: q.strategy_id })
    if (!admin) {
      const owner = q.strategy_id !== undefined && await this.owns(self, q.strategy_id)
      if (!owner) {
        if (q.user_id !== undefined && q.user_id !== self) throw new AppError('forbidden', 'only an admin may list another user\'s subscriptions')
        conditions.push({ user_id: self })
      }
    }
    const limit = pageLimit(q)
    const rows = await this.db.models.Subscription.findAll({ where: { [Op.and]: conditions }, order: [['id', 'ASC']], limit: limit + 1 })
    return toPage(rows, limit, (s) => s.id, toSubscriptionView)
  }

  /** Ends a subscription: its user, the strategy's owner or an admin. Effective on live MQTT sessions at once. */
  async remove(ctx: ActionContext, id: number | string): Promise<void> {
    const subscriptionId = parseId(id, 'subscription')
    const row = await this.db.models.Subscription.findByPk(subscriptionId)
    if (row === null) throw new AppError('not_found', `subscription ${subscriptionId} not found`)
    const self = ctx.principal.userId
    if (Number(row.user_id) !== self && !this.ops.isAdmin(ctx) && !await this.owns(self, row.strategy_id)) {
      throw new AppError('forbidden', 'only the subscriber, the strategy\'s owner or an admin may end a subscription')
    }
    await row.destroy()
    this.ops.record(ctx, 'subscription.remove', `subscription/${row.id}`, { user_id: row.user_id, strategy_id: row.strategy_id })
    await this.ops.applyPolicyChange()
  }

  private async owns(userId: number, strategyId: string): Promise<boolean> {
    const strategy = await this.db.models.Strategy.findByPk(strategyId, { attributes: ['owner_id'] })
    return strategy !== null && Number(strategy.owner_id) === userId
  }

  private async assertMayGrant(ctx: ActionContext, strategy: Strategy, userId: number, symbols: string[] | null): Promise<void> {
    const self = ctx.principal.userId
    const grantor = this.ops.isAdmin(ctx) || Number(strategy.owner_id) === self
    if (grantor) {
      if (userId !== self && await this.db.models.User.findByPk(userId) === null) {
        throw new AppError('validation_failed', `user ${userId} does not exist`, { issues: [{ path: 'user_id', message: 'no such user' }] })
      }
      return
    }
    if (userId !== self) throw new AppError('forbidden', 'only an admin or the strategy\'s owner may subscribe another user')
    if (strategy.visibility === 'private') throw new AppError('forbidden', 'a private strategy is granted by its owner or an admin')
    const policy = await previewPolicy(this.db, (s) => {
      const mine = s.subscriptions.get(self) ?? new Map<string, string[] | null>()
      mine.set(strategy.id, symbols)
      s.subscriptions.set(self, mine)
    })
    const topics = symbols === null ? [`strategy/${strategy.id}/#`] : symbols.map((symbol) => `strategy/${strategy.id}/${symbol}`)
    if (!topics.every((topic) => policy.can(ctx.principal, 'subscribe', topic))) {
      throw new AppError('forbidden', 'your role may not subscribe to this strategy')
    }
  }
}
