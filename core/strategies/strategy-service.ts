import { Op, UniqueConstraintError, type WhereOptions } from 'sequelize'
import type { Strategy } from '../../models/strategy.model'
import type { Database } from '../../models/database'
import type { Operations } from '../operations'
import { AppError } from '../errors'
import { STRATEGY_ID_PATTERN } from '../signals/signal-schema'
import { previewPolicy } from '../permissions/policy-preview'
import type { ActionContext } from '../action-context'
import { decodeStringCursor, pageLimit, toPage, type Page } from '../pagination'
import { parseInput } from '../parse-input'
import {
  createStrategySchema, listStrategiesQuerySchema, updateStrategySchema,
  type CreateStrategyInput, type ListStrategiesQuery, type StrategyView, type UpdateStrategyInput
} from './strategy-schemas'

export function toStrategyView(s: Strategy): StrategyView {
  return {
    id: s.id,
    name: s.name,
    description: s.description,
    owner_id: Number(s.owner_id),
    visibility: s.visibility === 'private' ? 'private' : 'public',
    last_seq: s.last_seq,
    created_at: s.created_at.toISOString(),
    updated_at: s.updated_at.toISOString()
  }
}

/**
 * Strategies. Publishers create and manage their own, admins any. Everyone sees the
 * public ones, their own and those they subscribe to; a private strategy someone may
 * not see is reported as missing (404), never as forbidden.
 */
export class StrategyService {
  constructor(private readonly db: Database, private readonly ops: Operations) {}

  async create(ctx: ActionContext, input: CreateStrategyInput): Promise<StrategyView> {
    const data = parseInput(createStrategySchema, input)
    const admin = this.ops.isAdmin(ctx)
    const ownerId = data.owner_id ?? ctx.principal.userId
    if (ownerId !== ctx.principal.userId && !admin) throw new AppError('forbidden', 'only an admin may create a strategy for another user')
    if (await this.db.models.User.findByPk(ownerId) === null) {
      throw new AppError('validation_failed', `user ${ownerId} does not exist`, { issues: [{ path: 'owner_id', message: 'no such user' }] })
    }
    if (!admin) await this.assertMayPublish(ctx, data.id, data.visibility)
    const { Strategy } = this.db.models
    if (await Strategy.findByPk(data.id) !== null) throw new AppError('conflict', `strategy ${data.id} exists`)
    let strategy: Strategy
    try {
      strategy = await Strategy.create({ id: data.id, name: data.name, description: data.description, visibility: data.visibility, owner_id: ownerId })
    } catch (err) {
      if (err instanceof UniqueConstraintError) throw new AppError('conflict', `strategy ${data.id} exists`)
      throw err
    }
    this.ops.record(ctx, 'strategy.create', `strategy/${strategy.id}`, { owner_id: ownerId, visibility: data.visibility })
    await this.ops.applyPolicyChange()
    return toStrategyView(strategy)
  }

  /** Admins: every strategy. Others: public ones, their own and those they are subscribed to. Ordered by id. */
  async list(ctx: ActionContext, query: ListStrategiesQuery = {}): Promise<Page<StrategyView>> {
    const q = parseInput(listStrategiesQuerySchema, query)
    const after = decodeStringCursor(q.cursor)
    const conditions: WhereOptions<Strategy>[] = []
    if (after !== undefined) conditions.push({ id: { [Op.gt]: after } })
    if (q.owner_id !== undefined) conditions.push({ owner_id: q.owner_id })
    if (q.visibility !== undefined) conditions.push({ visibility: q.visibility })
    if (!this.ops.isAdmin(ctx)) {
      const subscribed = await this.subscribedIds(ctx.principal.userId)
      conditions.push({ [Op.or]: [{ visibility: 'public' }, { owner_id: ctx.principal.userId }, { id: subscribed }] })
    }
    const limit = pageLimit(q)
    const rows = await this.db.models.Strategy.findAll({ where: { [Op.and]: conditions }, order: [['id', 'ASC']], limit: limit + 1 })
    return toPage(rows, limit, (s) => s.id, toStrategyView)
  }

  async get(ctx: ActionContext, id: string): Promise<StrategyView> {
    return toStrategyView(await this.visible(ctx, id))
  }

  /** Owner or admin: name, description, visibility; only an admin hands a strategy to another owner. */
  async update(ctx: ActionContext, id: string, patch: UpdateStrategyInput): Promise<StrategyView> {
    const data = parseInput(updateStrategySchema, patch)
    const strategy = await this.managed(ctx, id)
    if (data.owner_id !== undefined && data.owner_id !== Number(strategy.owner_id)) {
      if (!this.ops.isAdmin(ctx)) throw new AppError('forbidden', 'only an admin may change a strategy\'s owner')
      if (await this.db.models.User.findByPk(data.owner_id) === null) {
        throw new AppError('validation_failed', `user ${data.owner_id} does not exist`, { issues: [{ path: 'owner_id', message: 'no such user' }] })
      }
    }
    await strategy.update(data)
    this.ops.record(ctx, 'strategy.update', `strategy/${strategy.id}`, { fields: Object.keys(data), visibility: strategy.visibility, owner_id: strategy.owner_id })
    await this.ops.applyPolicyChange()
    return toStrategyView(strategy)
  }

  /**
   * Owner or admin. A strategy with stored signals is kept (409) unless `force` is
   * set; then its signals and subscriptions are deleted with it.
   */
  async delete(ctx: ActionContext, id: string, options: { force?: boolean } = {}): Promise<void> {
    const strategy = await this.managed(ctx, id)
    const { Signal, Subscription } = this.db.models
    const signals = await Signal.count({ where: { strategy_id: strategy.id } })
    if (signals > 0 && options.force !== true) {
      throw new AppError('conflict', `strategy ${strategy.id} has ${signals} signals; delete with force=true to remove them too`)
    }
    const subscriptions = await this.db.transaction(async (transaction) => {
      await Signal.destroy({ where: { strategy_id: strategy.id }, transaction })
      const removed = await Subscription.destroy({ where: { strategy_id: strategy.id }, transaction })
      await strategy.destroy({ transaction })
      return removed
    })
    this.ops.record(ctx, 'strategy.delete', `strategy/${strategy.id}`, { signals, subscriptions, forced: options.force === true })
    await this.ops.applyPolicyChange()
  }

  /** The strategy if the caller may see it, else 404. */
  async visible(ctx: ActionContext, id: string): Promise<Strategy> {
    // an id no strategy can have never reaches the database
    const strategy = STRATEGY_ID_PATTERN.test(id) ? await this.db.models.Strategy.findByPk(id) : null
    if (strategy === null) throw new AppError('not_found', `strategy ${id} not found`)
    if (strategy.visibility === 'public' || Number(strategy.owner_id) === ctx.principal.userId || this.ops.isAdmin(ctx)) return strategy
    const subscribed = await this.db.models.Subscription.count({ where: { user_id: ctx.principal.userId, strategy_id: id, status: 'active' } })
    if (subscribed === 0) throw new AppError('not_found', `strategy ${id} not found`)
    return strategy
  }

  /** The strategy if the caller owns it or is an admin: 404 when it cannot see it, 403 when it can see but not manage it. */
  private async managed(ctx: ActionContext, id: string): Promise<Strategy> {
    const strategy = await this.visible(ctx, id)
    if (Number(strategy.owner_id) !== ctx.principal.userId && !this.ops.isAdmin(ctx)) {
      throw new AppError('forbidden', 'only the strategy\'s owner or an admin may change it')
    }
    return strategy
  }

  private async subscribedIds(userId: number): Promise<string[]> {
    const rows = await this.db.models.Subscription.findAll({ where: { user_id: userId, status: 'active' }, attributes: ['strategy_id'] })
    return rows.map((r) => r.strategy_id)
  }

  /** A non-admin creates a strategy only if, once it is theirs, the policy would let them publish to it. */
  private async assertMayPublish(ctx: ActionContext, id: string, visibility: 'public' | 'private'): Promise<void> {
    const policy = await previewPolicy(this.db, (s) => { s.strategies.set(id, { ownerId: ctx.principal.userId, visibility }) })
    if (!policy.can(ctx.principal, 'publish', `strategy/${id}/any`)) {
      throw new AppError('forbidden', 'your role may not publish signals, so it may not own a strategy')
    }
  }
}
