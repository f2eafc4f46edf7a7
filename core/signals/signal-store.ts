import { Op, UniqueConstraintError, type Transaction } from 'sequelize'
import type { Database } from '../../models/database'
import { AppError } from '../errors'
import type { Principal } from '../principal'
import { GroupCommit } from './group-commit'
import type { SignalInput } from './signal-schema'
import { toSignalView, type SignalView } from './signal-view'

/** One ingest request's signals, already validated and authorised. */
export interface StoreRequest {
  principal: Principal
  items: SignalInput[]
  /** Idempotency key and the hash of the request it stands for. */
  key?: string
  hash: string
  batch: boolean
}

export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000
/** Signals written in one transaction at most (a single request larger than this still goes whole). */
const MAX_GROUP_SIGNALS = 1000
/** Signal ids marked published in one statement at most. */
const MAX_MARK_IDS = 5000

/** Where a stored signal is: its strategy and `seq` (unique together). */
type SignalRef = [strategyId: string, seq: number]

/** A group's rows for one strategy, in `seq` order from `first`. */
interface StrategyRun {
  strategyId: string
  first: number
  slots: Array<[request: number, item: number]>
}

/**
 * Writes signals with their sequence numbers. Concurrent requests are committed together
 * (group commit): one transaction per group takes each strategy's next `seq` values
 * (`UPDATE strategies SET last_seq = last_seq + n`, which locks only that strategy's row),
 * inserts all rows with one statement per strategy, and records idempotency keys; the
 * row ids are read after the commit, so the strategy's lock is held for as little as
 * possible. If a group fails because of one request (an idempotency race, a strategy
 * deleted meanwhile), its requests are written again one by one; a database failure fails
 * them all at once.
 */
export class SignalStore {
  private readonly writes: GroupCommit<StoreRequest, SignalView[]>
  private readonly marks: GroupCommit<number[], void>

  constructor(private readonly db: Database, private readonly now: () => Date) {
    this.writes = new GroupCommit(async (group) => this.views(group, await this.db.transaction((t) => this.insert(group, t))), {
      maxSize: MAX_GROUP_SIGNALS,
      sizeOf: (r) => r.items.length,
      retryAlone: (err) => err instanceof UniqueConstraintError || err instanceof AppError
    })
    this.marks = new GroupCommit<number[], void>(async (groups) => {
      await this.db.models.Signal.update({ published_at: this.now() }, { where: { id: groups.flat() } })
      return groups.map(() => undefined)
    }, { maxSize: MAX_MARK_IDS, sizeOf: (ids) => ids.length })
  }

  /** Stores one request's signals (all or nothing); resolves with them in request order. */
  store(request: StoreRequest): Promise<SignalView[]> {
    return this.writes.submit(request)
  }

  /** Records that signals were handed to the broker (they leave the outbox). */
  markPublished(ids: number[]): Promise<void> {
    return this.marks.submit(ids)
  }

  /** The first result stored under (user, key) within 24 h; idempotency_conflict if its request differed. */
  async replay(principal: Principal, key: string, hash: string): Promise<SignalView[] | null> {
    const { IdempotencyKey, Signal } = this.db.models
    const since = new Date(this.now().getTime() - IDEMPOTENCY_WINDOW_MS)
    const row = await IdempotencyKey.findOne({ where: { user_id: principal.userId, key, created_at: { [Op.gte]: since } } })
    if (row === null) return null
    if (row.request_hash !== hash) throw new AppError('idempotency_conflict')
    const refs = JSON.parse(row.signal_refs) as SignalRef[]
    const rows = await Signal.findAll({ where: { [Op.or]: refs.map(([strategyId, seq]) => ({ strategy_id: strategyId, seq })) } })
    const byRef = new Map(rows.map((r) => [`${r.strategy_id}\u0000${r.seq}`, r]))
    return refs.flatMap(([strategyId, seq]) => { const s = byRef.get(`${strategyId}\u0000${seq}`); return s === undefined ? [] : [toSignalView(s)] })
  }

  /** Takes `n` sequence numbers of a strategy (locking its row until commit); returns the first. */
  private async reserve(strategyId: string, n: number, now: Date, transaction: Transaction): Promise<number> {
    if (this.db.dialect === 'mysql') {
      // LAST_INSERT_ID(expr) hands the new value back with the UPDATE itself: one round trip
      const [header] = await this.db.sequelize.query('UPDATE strategies SET last_seq = LAST_INSERT_ID(last_seq + ?), updated_at = ? WHERE id = ?', { replacements: [n, now, strategyId], transaction })
      const { affectedRows, insertId } = header as unknown as { affectedRows: number, insertId: number }
      if (affectedRows === 0) throw new AppError('validation_failed', `unknown strategy ${strategyId}`)
      return Number(insertId) - n + 1
    }
    const { Strategy } = this.db.models
    await Strategy.increment({ last_seq: n }, { where: { id: strategyId }, transaction })
    const strategy = await Strategy.findByPk(strategyId, { transaction, attributes: ['id', 'last_seq'] })
    if (strategy === null) throw new AppError('validation_failed', `unknown strategy ${strategyId}`)
    return strategy.last_seq - n + 1
  }

  private async insert(group: StoreRequest[], transaction: Transaction): Promise<StrategyRun[]> {
    const { Signal } = this.db.models
    const now = this.now()
    const byStrategy = new Map<string, Array<[number, number]>>()
    group.forEach((r, ri) => r.items.forEach((item, ii) => {
      byStrategy.set(item.strategy_id, [...(byStrategy.get(item.strategy_id) ?? []), [ri, ii]])
    }))
    const runs: StrategyRun[] = []
    const refs = group.map((r) => new Array<SignalRef>(r.items.length))
    // Strategies are locked in id order so two groups spanning the same strategies cannot deadlock.
    for (const strategyId of [...byStrategy.keys()].sort()) {
      const slots = byStrategy.get(strategyId) as Array<[number, number]>
      const first = await this.reserve(strategyId, slots.length, now, transaction)
      // the model's attributes make dates keep their milliseconds on MySQL
      await this.db.sequelize.getQueryInterface().bulkInsert('signals', slots.map(([ri, ii], n) => {
        const item = group[ri].items[ii]
        refs[ri][ii] = [strategyId, first + n]
        return {
          strategy_id: strategyId,
          seq: first + n,
          symbol: item.symbol,
          type: item.type,
          execute_date: item.execute_date,
          description: item.description,
          payload: item.payload === null || item.payload === undefined ? null : JSON.stringify(item.payload),
          publisher_id: group[ri].principal.userId,
          idempotency_key: group[ri].key ?? null,
          created_at: now
        }
      }), { transaction }, Signal.getAttributes())
      runs.push({ strategyId, first, slots })
    }
    const keyed = group.flatMap((r, ri) => r.key === undefined ? [] : [{
      user_id: r.principal.userId, key: r.key, request_hash: r.hash, signal_refs: JSON.stringify(refs[ri]), batch: r.batch, created_at: now
    }])
    if (keyed.length > 0) await this.db.models.IdempotencyKey.bulkCreate(keyed, { transaction })
    return runs
  }

  /** The committed rows of each run, read back (with their ids) and put in request order. */
  private async views(group: StoreRequest[], runs: StrategyRun[]): Promise<SignalView[][]> {
    const results = group.map((r) => new Array<SignalView>(r.items.length))
    for (const { strategyId, first, slots } of runs) {
      const rows = await this.db.models.Signal.findAll({
        where: { strategy_id: strategyId, seq: { [Op.between]: [first, first + slots.length - 1] } },
        order: [['seq', 'ASC']]
      })
      rows.forEach((row, n) => {
        const [ri, ii] = slots[n]
        results[ri][ii] = toSignalView(row)
      })
    }
    return results
  }
}
