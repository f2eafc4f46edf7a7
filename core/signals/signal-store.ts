import { DatabaseError, Op, UniqueConstraintError } from 'sequelize'
import type { BatchConnection } from '../../models/batch-connection'
import { SqlExpression, type Database, type SqlValue } from '../../models/database'
import { AppError } from '../errors'
import type { Principal } from '../principal'
import { GroupCommit } from './group-commit'
import type { SignalInput } from './signal-schema'
import { toSignalView, type SignalRow, type SignalView } from './signal-view'

/** MySQL's "column cannot be null" and "foreign key fails" on a child row. */
const BAD_NULL = 1048
const NO_REFERENCED_ROW = 1452

/** The one-trip group write failed because a strategy was gone (its seq came out NULL). */
function missingSeq(err: unknown): boolean {
  const errno = err instanceof DatabaseError ? (err.parent as { errno?: number }).errno : undefined
  return errno === BAD_NULL || errno === NO_REFERENCED_ROW
}

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
/**
 * How long published-marks gather before one UPDATE writes them: under load, one statement
 * every 50 ms instead of one per group. Nobody waits on them but the outbox sweep (which
 * takes only signals older than its grace period) and a stopping node.
 */
const MARK_DELAY_MS = 50

/** The columns one INSERT writes for each signal of a group. */
const SIGNAL_COLUMNS = ['strategy_id', 'seq', 'symbol', 'type', 'execute_date', 'description', 'payload', 'publisher_id', 'idempotency_key', 'created_at'] as const

/** The columns of an idempotency record. */
const KEY_COLUMNS = ['user_id', 'key', 'request_hash', 'signal_refs', 'batch', 'created_at'] as const

/** A group's items by strategy (request index, item index), and its time. */
interface GroupPlan {
  now: Date
  byStrategy: Map<string, Array<[request: number, item: number]>>
}

type StoredRow = Omit<SignalRow, 'id'> & { idempotency_key: string | null }

/** What a group inserts: its rows in strategy-run order, as values, and its idempotency records. */
interface GroupLayout {
  runs: StrategyRun[]
  rows: StoredRow[]
  signalValues: SqlValue[][]
  keyValues: SqlValue[][]
}

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
 * (group commit): one transaction per group takes the next `seq` values of every strategy
 * involved (`UPDATE strategies SET last_seq = last_seq + n`, which locks only those rows),
 * inserts all rows with one statement, and records idempotency keys. The rows' ids follow
 * from the INSERT's result where the database makes them consecutive (`insertIdStep`);
 * elsewhere they are read after the commit, so the strategies' locks are held for as little
 * as possible. The number of statements per group does not grow with its size; on MySQL
 * they go in two round trips over the batch connection (`writeBatched`). If a group
 * fails because of one request (an idempotency race, a strategy deleted meanwhile), its
 * requests are written again one by one; a database failure fails them all at once.
 */
export class SignalStore {
  private readonly writes: GroupCommit<StoreRequest, SignalView[]>
  private readonly marks: GroupCommit<number[], void>

  constructor(private readonly db: Database, private readonly now: () => Date) {
    this.writes = new GroupCommit((group) => this.db.batch === undefined ? this.writeEach(group) : this.writeBatched(group, this.db.batch), {
      maxSize: MAX_GROUP_SIGNALS,
      sizeOf: (r) => r.items.length,
      retryAlone: (err) => err instanceof UniqueConstraintError || err instanceof AppError
    })
    this.marks = new GroupCommit<number[], void>(async (groups) => {
      await this.db.models.SignalOutbox.destroy({ where: { signal_id: groups.flat() } })
      return groups.map(() => undefined)
    }, { maxSize: MAX_MARK_IDS, sizeOf: (ids) => ids.length, delayMs: MARK_DELAY_MS })
  }

  /** Stores one request's signals (all or nothing); resolves with them in request order. */
  store(request: StoreRequest): Promise<SignalView[]> {
    return this.writes.submit(request)
  }

  /** Records that signals were handed to the broker: their rows leave `signal_outbox`. */
  markPublished(ids: number[]): Promise<void> {
    return this.marks.submit(ids)
  }

  /** Resolves once every write and mark submitted so far is done (before the database closes). */
  async settled(): Promise<void> {
    await Promise.all([this.writes.idle(), this.marks.idle()])
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

  /** Writes a group on SQLite (or wherever there is no batch connection): statement by statement in a Sequelize transaction. */
  private async writeEach(group: StoreRequest[]): Promise<SignalView[][]> {
    const step = await this.db.insertIdStep()
    const plan = this.plan(group)
    const { layout, insertResult } = await this.db.transaction(async (transaction) => {
      const { update, select } = this.reserveStatements(plan)
      await this.db.sequelize.query(update, { transaction })
      const [taken] = await this.db.sequelize.query(select, { transaction })
      const laid = this.layout(group, plan, this.firstSeqs(plan, taken))
      const result = await this.db.insertRows('signals', SIGNAL_COLUMNS, laid.signalValues, transaction)
      await this.db.sequelize.query(this.outboxStatement(laid, this.db.insertedIds(result, laid.rows.length, step)), { transaction })
      if (laid.keyValues.length > 0) await this.db.insertRows('idempotency_keys', KEY_COLUMNS, laid.keyValues, transaction)
      return { layout: laid, insertResult: result }
    })
    return this.finish(group, layout, insertResult, step)
  }

  /**
   * Writes a group on MySQL through the batch connection: in one round trip where the
   * server can work the seqs out by itself (`writeInOneTrip`), else in two:
   * `START TRANSACTION; UPDATE strategies …; SELECT last_seq …`, then
   * `INSERT INTO signals …; INSERT INTO signal_outbox …; [INSERT INTO idempotency_keys …;] COMMIT`.
   */
  private async writeBatched(group: StoreRequest[], batch: BatchConnection): Promise<SignalView[][]> {
    const step = await this.db.insertIdStep()
    const plan = this.plan(group)
    if (step !== null && group.every((r) => r.key === undefined)) {
      try {
        return await this.writeInOneTrip(group, plan, batch, step)
      } catch (err) {
        // a strategy deleted meanwhile: the two round trips find out which, and say so
        if (!missingSeq(err)) throw err
      }
    }
    const { update, select } = this.reserveStatements(plan)
    let laid: GroupLayout | undefined
    const results = await batch.transaction(`START TRANSACTION; ${update}; ${select}`, (taken) => {
      laid = this.layout(group, plan, this.firstSeqs(plan, taken[2]))
      const keys = laid.keyValues.length > 0 ? `${this.db.insertStatement('idempotency_keys', KEY_COLUMNS, laid.keyValues)}; ` : ''
      return `${this.db.insertStatement('signals', SIGNAL_COLUMNS, laid.signalValues)}; ${this.outboxStatement(laid, step)}; ${keys}COMMIT`
    })
    const inserted = results[0] as { insertId?: number }
    return this.finish(group, laid as GroupLayout, inserted.insertId, step)
  }

  /**
   * One round trip for a group whose ids follow from the INSERT (`step`) and which has no
   * idempotency key (whose record lists the seqs before they are known):
   * `START TRANSACTION; SET @seq_0 = NULL, …; UPDATE strategies SET last_seq = CASE id WHEN …
   * THEN (@seq_i := last_seq + n) … END …; INSERT INTO signals … (seq = @seq_i - k) …;
   * INSERT INTO signal_outbox …; SELECT @seq_0, …; COMMIT`. The UPDATE leaves each
   * strategy's new last_seq in a variable as it takes the seqs (reading them back with one
   * subquery each cost the server a quarter of the group's CPU); the server works each row's
   * seq out from it, and the final SELECT tells this side the same numbers. A strategy
   * deleted meanwhile leaves its variable NULL and the INSERT fails on the NOT NULL seq
   * (see `missingSeq`).
   */
  private async writeInOneTrip(group: StoreRequest[], plan: GroupPlan, batch: BatchConnection, step: number): Promise<SignalView[][]> {
    const strategies = [...plan.byStrategy.keys()]
    const variables = strategies.map((_id, i) => `@signalhub_seq_${i}`)
    const variable = new Map(strategies.map((id, i) => [id, variables[i]]))
    const { update } = this.reserveStatements(plan, variables)
    // a variable keeps its value for the connection's life: cleared, so a strategy the UPDATE misses leaves NULL
    const clear = `SET ${variables.map((v) => `${v} = NULL`).join(', ')}`
    // seqs counted from 0 in each strategy's run; the server's value is last_seq - (run length - 1 - k)
    const draft = this.layout(group, plan, new Map(strategies.map((id) => [id, 0])))
    const seqColumn = SIGNAL_COLUMNS.indexOf('seq')
    const values = draft.rows.map((row, n) => {
      const runLength = (plan.byStrategy.get(row.strategy_id) as unknown[]).length
      const own: Array<SqlValue | SqlExpression> = [...draft.signalValues[n]]
      own[seqColumn] = new SqlExpression(`${variable.get(row.strategy_id)} - ${runLength - 1 - row.seq}`)
      return own
    })
    const statements = ['START TRANSACTION', clear, update, this.db.insertStatement('signals', SIGNAL_COLUMNS, values), this.outboxStatement(draft, step), `SELECT ${variables.join(', ')}`, 'COMMIT']
    const results = await batch.transactionInOneTrip(statements.join('; '))
    const inserted = results[3] as { insertId?: number }
    const [taken] = results[5] as Array<Record<string, number | string | null>>
    const laid = this.layout(group, plan, this.firstSeqs(plan, strategies.map((id, i) => ({ id, last_seq: taken[variables[i]] }))))
    return this.finish(group, laid, inserted.insertId, step)
  }

  /**
   * The INSERT that puts the group's signals in `signal_outbox`, run right after the
   * signals' INSERT in the same transaction. With their ids known (`ids`), it lists them;
   * with only the spacing of the ids known (`step`: the next statement of a batch, on
   * MySQL), it counts from LAST_INSERT_ID(), the first id of that INSERT (no statement in
   * between takes an auto-increment id); else it finds the rows by (strategy_id, seq).
   */
  private outboxStatement(laid: GroupLayout, known: number[] | number | null): string {
    const into = 'INSERT INTO signal_outbox (signal_id, created_at)'
    const at = this.db.literal(laid.rows[0].created_at)
    if (Array.isArray(known)) return `${into} VALUES ${known.map((id) => `(${id}, ${at})`).join(', ')}`
    if (typeof known === 'number') return `${into} VALUES ${laid.rows.map((_r, k) => `(LAST_INSERT_ID() + ${k * known}, ${at})`).join(', ')}`
    const runs = laid.runs.map(({ strategyId, first, slots }) => `(strategy_id = ${this.db.literal(strategyId)} AND seq BETWEEN ${first} AND ${first + slots.length - 1})`)
    return `${into} SELECT id, created_at FROM signals WHERE ${runs.join(' OR ')}`
  }

  /** The group's views: worked out from the insert's ids where they are certain, else read back. */
  private async finish(group: StoreRequest[], laid: GroupLayout, insertResult: unknown, step: number | null): Promise<SignalView[][]> {
    const ids = this.db.insertedIds(insertResult, laid.rows.length, step)
    return ids === null ? this.readBack(group, laid.runs) : this.views(group, laid.runs, laid.rows, ids)
  }

  /** Which request items go to which strategy, in request order, and the time they are stored at. */
  private plan(group: StoreRequest[]): GroupPlan {
    const byStrategy = new Map<string, Array<[number, number]>>()
    group.forEach((r, ri) => r.items.forEach((item, ii) => {
      const slots = byStrategy.get(item.strategy_id)
      if (slots === undefined) byStrategy.set(item.strategy_id, [[ri, ii]])
      else slots.push([ri, ii])
    }))
    return { now: this.now(), byStrategy }
  }

  /**
   * Takes the next sequence numbers of every strategy in the plan with one UPDATE (which
   * locks their rows, in primary-key order, until commit); the SELECT reads where each now
   * stands. With `into` (MySQL user variables, one per strategy in plan order), the UPDATE
   * also assigns each strategy's new last_seq to its variable. Built from literals: both run
   * for every group.
   */
  private reserveStatements(plan: GroupPlan, into?: readonly string[]): { update: string, select: string } {
    const ids = [...plan.byStrategy.keys()]
    const list = ids.map((id) => this.db.literal(id)).join(', ')
    const steps = ids.map((id, i) => {
      const next = `last_seq + ${(plan.byStrategy.get(id) as unknown[]).length}`
      return `WHEN ${this.db.literal(id)} THEN ${into === undefined ? next : `(${into[i]} := ${next})`}`
    }).join(' ')
    return {
      update: `UPDATE strategies SET last_seq = CASE id ${steps} END, updated_at = ${this.db.literal(plan.now)} WHERE id IN (${list})`,
      select: `SELECT id, last_seq FROM strategies WHERE id IN (${list})`
    }
  }

  /** The first seq taken per strategy, from the SELECT's rows; a strategy gone meanwhile is a validation error. */
  private firstSeqs(plan: GroupPlan, taken: unknown): Map<string, number> {
    const last = new Map((taken as Array<{ id: string, last_seq: number | string }>).map((r) => [r.id, Number(r.last_seq)]))
    const first = new Map<string, number>()
    for (const [id, slots] of plan.byStrategy) {
      const now = last.get(id)
      if (now === undefined) throw new AppError('validation_failed', `unknown strategy ${id}`)
      first.set(id, now - slots.length + 1)
    }
    return first
  }

  /** The rows to insert, in strategy-run order, and the idempotency records pointing at them. */
  private layout(group: StoreRequest[], plan: GroupPlan, first: Map<string, number>): GroupLayout {
    const { now } = plan
    const runs: StrategyRun[] = [...plan.byStrategy].map(([strategyId, slots]) => ({ strategyId, first: first.get(strategyId) as number, slots }))
    const refs = group.map((r) => new Array<SignalRef>(r.items.length))
    const rows = runs.flatMap(({ strategyId, first: from, slots }) => slots.map(([ri, ii], n) => {
      const item = group[ri].items[ii]
      refs[ri][ii] = [strategyId, from + n]
      return {
        strategy_id: strategyId,
        seq: from + n,
        symbol: item.symbol,
        type: item.type,
        execute_date: item.execute_date,
        description: item.description,
        payload: item.payload === null || item.payload === undefined ? null : JSON.stringify(item.payload),
        publisher_id: group[ri].principal.userId,
        idempotency_key: group[ri].key ?? null,
        created_at: now
      }
    }))
    const keyValues = group.flatMap((r, ri) => r.key === undefined ? [] : [[r.principal.userId, r.key, r.hash, JSON.stringify(refs[ri]), r.batch, now]])
    return { runs, rows, signalValues: rows.map((r) => SIGNAL_COLUMNS.map((c) => r[c])), keyValues }
  }

  /** The group's views from the rows as inserted (in `runs` order) and their ids, in request order. */
  private views(group: StoreRequest[], runs: StrategyRun[], rows: StoredRow[], ids: number[]): SignalView[][] {
    const results = group.map((r) => new Array<SignalView>(r.items.length))
    let n = 0
    for (const { slots } of runs) {
      for (const [ri, ii] of slots) {
        results[ri][ii] = toSignalView({ ...rows[n], id: ids[n] })
        n++
      }
    }
    return results
  }

  /** The committed rows of the group, read back with their ids in one query, in request order (when their ids cannot be worked out). */
  private async readBack(group: StoreRequest[], runs: StrategyRun[]): Promise<SignalView[][]> {
    const rows = await this.db.models.Signal.findAll({
      where: { [Op.or]: runs.map(({ strategyId, first, slots }) => ({ strategy_id: strategyId, seq: { [Op.between]: [first, first + slots.length - 1] } })) }
    })
    const byRef = new Map(rows.map((r) => [`${r.strategy_id}\u0000${r.seq}`, r]))
    const results = group.map((r) => new Array<SignalView>(r.items.length))
    for (const { strategyId, first, slots } of runs) {
      slots.forEach(([ri, ii], n) => {
        const row = byRef.get(`${strategyId}\u0000${first + n}`)
        if (row === undefined) throw new Error(`signal ${strategyId}:${first + n} not found after commit`)
        results[ri][ii] = toSignalView(row)
      })
    }
    return results
  }
}
