import { DatabaseError, ForeignKeyConstraintError, Op, UniqueConstraintError, type Transaction } from 'sequelize'
import type { BindValue, Database } from '../../models/database'
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
/**
 * How long published-marks gather before one DELETE writes them: under load, one statement
 * every 50 ms instead of one per group. Nobody waits on them but the outbox sweep (which
 * takes only signals older than its grace period) and a stopping node.
 */
const MARK_DELAY_MS = 50
/**
 * Groups written at the same time on MySQL. Each round trip of a group waits for the server
 * and for its turn in this process's event loop; with several groups under way those waits
 * overlap. SQLite has one writer at a time, so there it is 1.
 */
const GROUPS_IN_FLIGHT = 2

/** The columns one INSERT writes for each signal of a group. */
const SIGNAL_COLUMNS = ['strategy_id', 'seq', 'symbol', 'type', 'execute_date', 'description', 'payload', 'publisher_id', 'idempotency_key', 'created_at'] as const

/** What identifies a new signal: read back, or answered by the INSERT itself (`RETURNING`). */
const ID_COLUMNS = ['id', 'strategy_id', 'seq'] as const

/** The columns of a signal's row in the outbox. */
const OUTBOX_COLUMNS = ['signal_id', 'created_at'] as const

/** The columns of an idempotency record. */
const KEY_COLUMNS = ['user_id', 'key', 'request_hash', 'signal_refs', 'batch', 'created_at'] as const

/** A new signal's id as read back (MySQL answers BIGINT columns as numbers or numeric strings). */
interface StoredId { id: number | string, strategy_id: string, seq: number | string }

/** Where a stored signal is: its strategy and `seq` (unique together). */
type SignalRef = [strategyId: string, seq: number]

/** A group's signals of one strategy, in `seq` order from `first`: which request item each one is. */
interface StrategyRun {
  strategyId: string
  slots: Array<[request: number, item: number]>
  first: number
}

/** MySQL's "deadlock found when trying to get lock": the victim's transaction was rolled back. */
const ER_LOCK_DEADLOCK = 1213

/** A group failed because of one of its requests (or its timing): each request is written again on its own. */
function failedByOneRequest(err: unknown): boolean {
  if (err instanceof AppError || err instanceof UniqueConstraintError || err instanceof ForeignKeyConstraintError) return true
  return err instanceof DatabaseError && (err.parent as Error & { errno?: number }).errno === ER_LOCK_DEADLOCK
}

/**
 * Writes signals with their sequence numbers. Concurrent requests are committed together
 * (group commit), one transaction per group, with the same statements whatever the group
 * holds, each value a bound parameter:
 *
 * 1. `UPDATE strategies SET last_seq = last_seq + CASE id WHEN … END … WHERE id IN (…)`
 *    takes the next seqs of every strategy of the group and locks those rows until commit
 *    (a strategy deleted meanwhile changes no row: its requests fail validation);
 * 2. `INSERT INTO signals … VALUES (…, (SELECT last_seq FROM strategies WHERE id = …) - k, …), …`
 *    writes the group's signals, each `seq` worked out from the strategy's new `last_seq`;
 * 3. `SELECT … FROM (SELECT id, strategy_id, seq FROM signals WHERE strategy_id = … ORDER BY
 *    seq DESC LIMIT n) … UNION ALL …` reads them back with their ids: the newest `n` of each
 *    strategy are the group's own while it holds the lock. Nothing is inferred from
 *    auto-increment values, whose spacing depends on the server's settings, and a plain
 *    read takes no locks that a concurrent group could wait on. On MariaDB the INSERT
 *    answers with them itself (`RETURNING id, strategy_id, seq`) and this step is left out;
 * 4. `INSERT INTO signal_outbox … VALUES …` queues them for the broker;
 * 5. `INSERT INTO idempotency_keys … VALUES …` for the requests that carry a key.
 *
 * On MySQL several groups are written at once (GROUPS_IN_FLIGHT), each on its own
 * connection; groups that share a strategy take turns on its row lock. If a group fails
 * because of one request (an idempotency race, a strategy or publisher deleted meanwhile,
 * a deadlock between groups), its requests are written again one by one; a database failure
 * fails them all at once.
 */
export class SignalStore {
  private readonly writes: GroupCommit<StoreRequest, SignalView[]>
  private readonly marks: GroupCommit<number[], void>

  constructor(private readonly db: Database, private readonly now: () => Date) {
    this.writes = new GroupCommit((group) => this.write(group), {
      maxSize: MAX_GROUP_SIGNALS,
      sizeOf: (r) => r.items.length,
      retryAlone: failedByOneRequest,
      concurrency: db.dialect === 'mysql' ? GROUPS_IN_FLIGHT : 1
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
    const byRef = new Map(rows.map((r) => [refKey(r.strategy_id, r.seq), r]))
    return refs.flatMap(([strategyId, seq]) => { const s = byRef.get(refKey(strategyId, seq)); return s === undefined ? [] : [toSignalView(s)] })
  }

  /** Writes one group in one transaction (the statements listed on the class); one result per request, in order. */
  private async write(group: StoreRequest[]): Promise<SignalView[][]> {
    const now = this.now()
    const runs = this.runs(group)
    const returning = await this.db.insertReturning()
    return this.db.transaction(async (transaction) => {
      await this.reserve(runs, now, transaction)
      const values = this.signalValues(group, runs, now)
      const inserted = await this.db.insertValues<StoredId>('signals', SIGNAL_COLUMNS, values, { transaction, tuple: seqFromStrategy, returning: returning ? ID_COLUMNS : undefined })
      const ids = this.locate(runs, returning ? inserted : await this.readBack(runs, transaction))
      await this.db.insertValues('signal_outbox', OUTBOX_COLUMNS, [...ids.values()].map((id) => [id, now]), { transaction })
      const keys = this.keyRows(group, runs, now)
      if (keys.length > 0) await this.db.insertValues('idempotency_keys', KEY_COLUMNS, keys, { transaction })
      return this.views(group, runs, now, ids)
    })
  }

  /** The group's items by strategy, in request order (seqs not yet known). */
  private runs(group: StoreRequest[]): StrategyRun[] {
    const byStrategy = new Map<string, StrategyRun>()
    group.forEach((r, ri) => r.items.forEach((item, ii) => {
      const run = byStrategy.get(item.strategy_id)
      if (run === undefined) byStrategy.set(item.strategy_id, { strategyId: item.strategy_id, slots: [[ri, ii]], first: 0 })
      else run.slots.push([ri, ii])
    }))
    return [...byStrategy.values()]
  }

  /**
   * Takes the next `seq` values of every strategy in `runs` with one UPDATE, which locks
   * their rows until commit. A strategy gone meanwhile is a validation error (and the
   * transaction rolls back); only then is it looked up which one it was.
   */
  private async reserve(runs: StrategyRun[], now: Date, transaction: Transaction): Promise<void> {
    const values: BindValue[] = []
    const param = (v: BindValue): string => `$${values.push(v)}`
    const steps = runs.map((r) => `WHEN ${param(r.strategyId)} THEN ${param(r.slots.length)}`).join(' ')
    const ids = runs.map((r) => param(r.strategyId)).join(', ')
    const changed = await this.db.update(`UPDATE strategies SET last_seq = last_seq + CASE id ${steps} END, updated_at = ${param(now)} WHERE id IN (${ids})`, values, transaction)
    if (changed === runs.length) return
    const found = await this.db.query<{ id: string }>(`SELECT id FROM strategies WHERE id IN (${runs.map((_r, i) => `$${i + 1}`).join(', ')})`, runs.map((r) => r.strategyId), { transaction, select: true })
    const missing = runs.find((r) => !found.some((f) => f.id === r.strategyId))
    throw new AppError('validation_failed', `unknown strategy ${missing?.strategyId ?? runs[0].strategyId}`)
  }

  /**
   * The group's newest signals, which are the ones it just inserted (it holds the locks of
   * their strategies): the last `n` of each strategy by `seq`, one index range each.
   */
  private readBack(runs: StrategyRun[], transaction: Transaction): Promise<StoredId[]> {
    const newest = runs.map((_r, i) => `SELECT * FROM (SELECT id, strategy_id, seq FROM signals WHERE strategy_id = $${2 * i + 1} ORDER BY seq DESC LIMIT $${2 * i + 2}) AS run${i}`)
    return this.db.query<StoredId>(newest.join(' UNION ALL '), runs.flatMap((r) => [r.strategyId, r.slots.length]), { transaction, select: true })
  }

  /** Sets each run's `first` seq from the group's new rows; resolves with their ids by (strategy_id, seq). */
  private locate(runs: StrategyRun[], rows: StoredId[]): Map<string, number> {
    const ids = new Map<string, number>()
    const first = new Map<string, number>()
    for (const row of rows) {
      const seq = Number(row.seq)
      ids.set(refKey(row.strategy_id, seq), Number(row.id))
      first.set(row.strategy_id, Math.min(seq, first.get(row.strategy_id) ?? seq))
    }
    for (const run of runs) {
      const from = first.get(run.strategyId)
      if (from === undefined) throw new Error(`the signals of strategy ${run.strategyId} are not found after their INSERT`)
      run.first = from
    }
    return ids
  }

  /**
   * The values of the group's signals, in run order, for SIGNAL_COLUMNS with `seq` replaced
   * by how far below the strategy's new `last_seq` each one is (see seqFromStrategy).
   */
  private signalValues(group: StoreRequest[], runs: StrategyRun[], now: Date): BindValue[][] {
    return runs.flatMap(({ strategyId, slots }) => slots.map(([ri, ii], n) => {
      const request = group[ri]
      const item = request.items[ii]
      const payload = storedPayload(item.payload)
      return [strategyId, slots.length - 1 - n, item.symbol, item.type, item.execute_date, item.description, payload, request.principal.userId, request.key ?? null, now]
    }))
  }

  /** The idempotency records of the requests that carry a key: which (strategy, seq) each item got. */
  private keyRows(group: StoreRequest[], runs: StrategyRun[], now: Date): BindValue[][] {
    const refs = group.map((r) => new Array<SignalRef>(r.items.length))
    for (const { strategyId, slots, first } of runs) slots.forEach(([ri, ii], n) => { refs[ri][ii] = [strategyId, first + n] })
    return group.flatMap((r, ri) => r.key === undefined ? [] : [[r.principal.userId, r.key, r.hash, JSON.stringify(refs[ri]), r.batch, now]])
  }

  /** Each request's views, in request order: their values as given, seqs from `first`, ids as read back. */
  private views(group: StoreRequest[], runs: StrategyRun[], now: Date, ids: Map<string, number>): SignalView[][] {
    const results = group.map((r) => new Array<SignalView>(r.items.length))
    for (const { strategyId, slots, first } of runs) {
      slots.forEach(([ri, ii], n) => {
        const request = group[ri]
        const item = request.items[ii]
        const id = ids.get(refKey(strategyId, first + n))
        if (id === undefined) throw new Error(`signal ${strategyId}:${first + n} is not found after its INSERT`)
        results[ri][ii] = toSignalView({
          id,
          seq: first + n,
          strategy_id: strategyId,
          symbol: item.symbol,
          type: item.type,
          execute_date: item.execute_date,
          description: item.description,
          payload: storedPayload(item.payload),
          publisher_id: request.principal.userId,
          created_at: now
        })
      })
    }
    return results
  }
}

/** A signal's payload as stored: JSON text, or null. */
function storedPayload(payload: unknown): string | null {
  return payload === null || payload === undefined ? null : JSON.stringify(payload)
}

/**
 * One signal's VALUES with its `seq` worked out by the database: the strategy's `last_seq`,
 * which this transaction has just raised (and holds locked), less the signal's distance
 * below it (the second value, in place of `seq`).
 */
function seqFromStrategy([strategyId, below, ...rest]: string[]): string {
  return `(${strategyId},(SELECT last_seq FROM strategies WHERE id = ${strategyId}) - ${below},${rest.join(',')})`
}

function refKey(strategyId: string, seq: number): string {
  return `${strategyId}\u0000${seq}`
}
