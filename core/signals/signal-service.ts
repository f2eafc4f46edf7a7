import { createHash } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { col, fn, Op, UniqueConstraintError, type Transaction } from 'sequelize'
import type { z } from 'zod'
import { isDatabaseUnavailable, type Database } from '../../models/database'
import type { Signal } from '../../models/signal.model'
import type { AuditTrail } from '../audit/audit-trail'
import { AppError, type FieldIssue } from '../errors'
import { logger } from '../logger'
import type { Metrics } from '../metrics'
import type { PolicyStore } from '../policy/policy-store'
import type { Principal } from '../principal'
import { createSignalSchemas, type SignalInput, type SignalSchemas } from './signal-schema'

/** A signal on the wire (MQTT payload, REST body, SSE data). */
export interface SignalView {
  id: number
  seq: number
  strategy_id: string
  symbol: string
  type: string
  execute_date: string
  description: string
  payload: unknown
  publisher: number | null
  created_at: string
}

/** Where stored signals are handed for delivery: the MQTT broker. */
export interface MessageSink {
  publish(topic: string, payload: Buffer, options: { qos: 0 | 1, retain: boolean }): Promise<void>
}

export interface IngestContext {
  source: 'rest' | 'mqtt'
  ip?: string | null
  requestId?: string | null
  clientId?: string | null
}

export interface IngestResult {
  signals: SignalView[]
  /** True when an idempotency key repeated an earlier request: nothing was stored or published. */
  replayed: boolean
}

export interface SignalServiceOptions {
  types: readonly string[]
  timeZone: string
  now?: () => Date
  /** Milliseconds one hand-off to the broker may take before it counts as failed (default 3000). */
  handOffTimeoutMs?: number
}

const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000
/** Seconds a client is told to wait (Retry-After) when the database cannot be reached. */
const DATABASE_RETRY_AFTER_SECONDS = 5

/** The database cannot be reached: 503 with Retry-After on REST, CONNACK 3 / no PUBACK on MQTT. */
export function databaseUnavailable(cause: unknown): AppError {
  return new AppError('service_unavailable', 'the database cannot be reached; nothing was stored, retry shortly', {
    cause,
    headers: { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) }
  })
}

/**
 * Rejects when `work` has not settled within `ms`. Aedes never calls back when its Redis
 * connections hang (a blackholed link), so each hand-off is bounded; a hand-off that
 * completes after its timeout only causes a duplicate, which subscribers drop by `seq`.
 */
function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)
  })
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer))
}

export function signalTopic(strategyId: string, symbol: string): string {
  return `strategy/${strategyId}/${symbol}`
}

export function toSignalView(s: Signal): SignalView {
  return {
    id: s.id,
    seq: s.seq,
    strategy_id: s.strategy_id,
    symbol: s.symbol,
    type: s.type,
    execute_date: s.execute_date.toISOString(),
    description: s.description,
    payload: s.payload === null ? null : JSON.parse(s.payload) as unknown,
    publisher: s.publisher_id,
    created_at: s.created_at.toISOString()
  }
}

/** The canonical JSON of a signal: fixed key order, so every door sends the same bytes. */
export function encodeSignal(view: SignalView): Buffer {
  return Buffer.from(JSON.stringify({
    id: view.id,
    seq: view.seq,
    strategy_id: view.strategy_id,
    symbol: view.symbol,
    type: view.type,
    execute_date: view.execute_date,
    description: view.description,
    payload: view.payload,
    publisher: view.publisher,
    created_at: view.created_at
  }))
}

function issuesOf(error: z.ZodError, prefix: string): FieldIssue[] {
  return error.issues.map((i) => ({ path: [prefix, ...i.path.map(String)].filter((p) => p !== '').join('.'), message: i.message }))
}

/**
 * The one write path for signals, whichever door they come through:
 * validate → authorise (core policy) → store with the next `seq` of the strategy, in one
 * transaction → hand to the broker (retained, QoS 1) → mark published.
 * A signal that could not be handed over stays unpublished in the table (the outbox)
 * and is published again by the outbox (`outbox.ts`). Every signal handed over is also emitted as
 * `published` (in order) for in-process readers such as the SSE stream.
 */
export class SignalService extends EventEmitter<{ published: [SignalView[]] }> {
  readonly schemas: SignalSchemas
  private sink?: MessageSink
  private readonly now: () => Date
  private readonly handOffTimeoutMs: number

  constructor(
    private readonly db: Database,
    private readonly policy: PolicyStore,
    private readonly audit: AuditTrail,
    private readonly metrics: Metrics,
    options: SignalServiceOptions
  ) {
    super()
    this.schemas = createSignalSchemas(options)
    this.now = options.now ?? (() => new Date())
    this.handOffTimeoutMs = options.handOffTimeoutMs ?? 3000
  }

  setSink(sink: MessageSink): void {
    this.sink = sink
  }

  /** Validates REST input: one signal or `{"signals": […]}`. Throws validation_failed with per-item issues. */
  parseRestBody(body: unknown): { items: SignalInput[], batch: boolean } {
    if (body !== null && typeof body === 'object' && !Array.isArray(body) && 'signals' in body) {
      const batch = this.schemas.batch.safeParse(body)
      if (!batch.success) throw new AppError('validation_failed', 'invalid batch', { issues: issuesOf(batch.error, '') })
      const issues: FieldIssue[] = []
      const items: SignalInput[] = []
      batch.data.signals.forEach((raw, i) => {
        const parsed = this.schemas.signal.safeParse(raw)
        if (parsed.success) items.push(parsed.data)
        else issues.push(...issuesOf(parsed.error, `signals.${i}`))
      })
      if (issues.length > 0) throw new AppError('validation_failed', `${issues.length} problem(s) in the batch; nothing was stored`, { issues })
      return { items, batch: true }
    }
    const parsed = this.schemas.signal.safeParse(body)
    if (!parsed.success) throw new AppError('validation_failed', 'invalid signal', { issues: issuesOf(parsed.error, '') })
    return { items: [parsed.data], batch: false }
  }

  /** Validates an MQTT publish to `strategy/<id>/<symbol>`: the topic supplies strategy and symbol. */
  parseMqttPayload(strategyId: string, symbol: string, payload: Buffer): { item: SignalInput, idempotencyKey?: string } {
    let body: unknown
    try {
      body = JSON.parse(payload.toString('utf8'))
    } catch {
      throw new AppError('validation_failed', 'the payload is not JSON')
    }
    const parsed = this.schemas.mqttSignal.safeParse(body)
    if (!parsed.success) throw new AppError('validation_failed', 'invalid signal', { issues: issuesOf(parsed.error, '') })
    const { idempotency_key: idempotencyKey, ...fields } = parsed.data
    const topic = this.schemas.signal.shape
    const ids = topic.strategy_id.safeParse(strategyId)
    const sym = topic.symbol.safeParse(symbol)
    if (!ids.success || !sym.success) {
      throw new AppError('validation_failed', 'invalid topic', {
        issues: [...(ids.success ? [] : issuesOf(ids.error, 'strategy_id')), ...(sym.success ? [] : issuesOf(sym.error, 'symbol'))]
      })
    }
    return { item: { strategy_id: strategyId, symbol, ...fields }, idempotencyKey }
  }

  /** Stores and publishes validated signals for `principal` (all or nothing). */
  async ingest(principal: Principal, items: SignalInput[], options: IngestContext & { batch?: boolean, idempotencyKey?: string }): Promise<IngestResult> {
    try {
      const result = await this.store(principal, items, options).catch((err: unknown) => {
        throw isDatabaseUnavailable(err) ? databaseUnavailable(err) : err
      })
      if (!result.replayed) {
        this.metrics.signalsIngested.inc({ source: options.source }, result.signals.length)
        await this.publish(result.signals)
      }
      this.audit.record({
        action: result.replayed ? 'signal.replay' : 'signal.ingest',
        result: 'ok',
        userId: principal.userId,
        actor: principal.userName,
        resource: [...new Set(result.signals.map((s) => `strategy/${s.strategy_id}`))].join(',').slice(0, 255),
        ip: options.ip,
        clientId: options.clientId,
        requestId: options.requestId,
        detail: { source: options.source, count: result.signals.length, seqs: result.signals.slice(0, 20).map((s) => s.seq) }
      })
      return result
    } catch (err) {
      const code = err instanceof AppError ? err.code : 'internal'
      this.metrics.signalsRejected.inc({ source: options.source, code })
      this.audit.record({
        action: 'signal.ingest',
        result: err instanceof AppError && err.status < 500 ? 'denied' : 'failed',
        userId: principal.userId,
        actor: principal.userName,
        resource: [...new Set(items.map((s) => `strategy/${s.strategy_id}`))].join(',').slice(0, 255),
        ip: options.ip,
        clientId: options.clientId,
        requestId: options.requestId,
        detail: { source: options.source, code, count: items.length }
      })
      throw err
    }
  }

  private authorize(principal: Principal, items: SignalInput[]): void {
    const policy = this.policy.current
    const issues: FieldIssue[] = []
    const forbidden: string[] = []
    items.forEach((item, i) => {
      if (!policy.strategyExists(item.strategy_id)) {
        issues.push({ path: items.length > 1 ? `signals.${i}.strategy_id` : 'strategy_id', message: `unknown strategy ${item.strategy_id}` })
      } else if (!policy.can(principal, 'publish', signalTopic(item.strategy_id, item.symbol))) {
        forbidden.push(item.strategy_id)
      }
    })
    if (issues.length > 0) throw new AppError('validation_failed', 'unknown strategy', { issues })
    if (forbidden.length > 0) throw new AppError('forbidden', `you may not publish to strategy ${[...new Set(forbidden)].join(', ')}`)
  }

  private requestHash(items: SignalInput[], batch: boolean): string {
    const canonical = items.map((s) => [s.strategy_id, s.symbol, s.type, s.execute_date.toISOString(), s.description, s.payload])
    return createHash('sha256').update(JSON.stringify([batch, canonical])).digest('hex')
  }

  private async replay(principal: Principal, key: string, hash: string): Promise<IngestResult | null> {
    const { IdempotencyKey, Signal } = this.db.models
    const since = new Date(this.now().getTime() - IDEMPOTENCY_WINDOW_MS)
    const row = await IdempotencyKey.findOne({ where: { user_id: principal.userId, key, created_at: { [Op.gte]: since } } })
    if (row === null) return null
    if (row.request_hash !== hash) throw new AppError('idempotency_conflict')
    const ids = JSON.parse(row.signal_ids) as number[]
    const rows = await Signal.findAll({ where: { id: ids } })
    const byId = new Map(rows.map((r) => [r.id, r]))
    return { signals: ids.flatMap((id) => { const s = byId.get(id); return s === undefined ? [] : [toSignalView(s)] }), replayed: true }
  }

  private async store(principal: Principal, items: SignalInput[], options: { batch?: boolean, idempotencyKey?: string }): Promise<IngestResult> {
    this.authorize(principal, items)
    const key = options.idempotencyKey
    const hash = key === undefined ? '' : this.requestHash(items, options.batch ?? false)
    if (key !== undefined) {
      const earlier = await this.replay(principal, key, hash)
      if (earlier !== null) return earlier
    }
    try {
      const signals = await this.db.transaction((t) => this.insert(principal, items, key, hash, options.batch ?? false, t))
      return { signals, replayed: false }
    } catch (err) {
      if (key !== undefined && err instanceof UniqueConstraintError) {
        const earlier = await this.replay(principal, key, hash)
        if (earlier !== null) return earlier
      }
      throw err
    }
  }

  private async insert(principal: Principal, items: SignalInput[], key: string | undefined, hash: string, batch: boolean, transaction: Transaction): Promise<SignalView[]> {
    const { Strategy, Signal, IdempotencyKey } = this.db.models
    const now = this.now()
    const byStrategy = new Map<string, number[]>()
    items.forEach((item, i) => byStrategy.set(item.strategy_id, [...(byStrategy.get(item.strategy_id) ?? []), i]))
    const ids: number[] = new Array<number>(items.length)
    const views: SignalView[] = new Array<SignalView>(items.length)
    // Strategies are locked in id order so two batches spanning the same strategies cannot deadlock.
    for (const strategyId of [...byStrategy.keys()].sort()) {
      const indexes = byStrategy.get(strategyId) as number[]
      const [, affected] = await Strategy.increment({ last_seq: indexes.length }, { where: { id: strategyId }, transaction })
      const strategy = await Strategy.findByPk(strategyId, { transaction, attributes: ['id', 'last_seq'] })
      if (strategy === null || affected === 0) throw new AppError('validation_failed', `unknown strategy ${strategyId}`)
      const first = strategy.last_seq - indexes.length + 1
      await Signal.bulkCreate(indexes.map((i, n) => ({
        strategy_id: strategyId,
        seq: first + n,
        symbol: items[i].symbol,
        type: items[i].type,
        execute_date: items[i].execute_date,
        description: items[i].description,
        payload: items[i].payload === null || items[i].payload === undefined ? null : JSON.stringify(items[i].payload),
        publisher_id: principal.userId,
        idempotency_key: key ?? null,
        created_at: now
      })), { transaction })
      const stored = await Signal.findAll({
        where: { strategy_id: strategyId, seq: { [Op.between]: [first, strategy.last_seq] } },
        order: [['seq', 'ASC']],
        transaction
      })
      stored.forEach((row, n) => {
        ids[indexes[n]] = row.id
        views[indexes[n]] = toSignalView(row)
      })
    }
    if (key !== undefined) {
      await IdempotencyKey.create({ user_id: principal.userId, key, request_hash: hash, signal_ids: JSON.stringify(ids), batch, created_at: now }, { transaction })
    }
    return views
  }

  /**
   * Hands signals to the broker, in order, each retained on its topic unless `retain` says
   * otherwise; the first failure (or a hand-off slower than the timeout) stops the rest,
   * which stay in the outbox (`published_at` NULL). Returns how many were handed over.
   */
  async publish(signals: SignalView[], retain: (s: SignalView) => boolean = () => true): Promise<number> {
    const sink = this.sink
    if (sink === undefined) return 0
    const published: number[] = []
    try {
      for (const s of signals) {
        const handOff = sink.publish(signalTopic(s.strategy_id, s.symbol), encodeSignal(s), { qos: 1, retain: retain(s) })
        await within(handOff, this.handOffTimeoutMs, 'hand-off to the broker')
        published.push(s.id)
      }
    } catch (err) {
      this.metrics.publishFailures.inc(signals.length - published.length)
      logger.error('signals: hand-off to the broker failed; left in the outbox', { err: (err as Error).message, unpublished: signals.length - published.length })
    }
    if (published.length > 0) {
      this.emit('published', signals.slice(0, published.length))
      await this.db.models.Signal.update({ published_at: this.now() }, { where: { id: published } }).catch((err: unknown) => {
        logger.warn('signals: could not mark signals published; they may be delivered again', { err: (err as Error).message })
      })
    }
    return published.length
  }

  /**
   * Publishes stored signals never handed to the broker and older than `olderThanMs` (outbox
   * recovery), oldest first per strategy. A signal is retained only if it is still the newest
   * on its topic, so a late one never replaces a newer retained signal.
   * Returns how many were found.
   */
  async publishPending(olderThanMs = 5000, limit = 500): Promise<number> {
    return (await this.republish(olderThanMs, limit)).found
  }

  /** `publishPending` with how many of those found were handed over (the outbox drains while all are). */
  async republish(olderThanMs: number, limit: number): Promise<{ found: number, published: number }> {
    const { Signal } = this.db.models
    const cutoff = new Date(this.now().getTime() - olderThanMs)
    const rows = await Signal.findAll({
      where: { published_at: null, created_at: { [Op.lte]: cutoff } },
      order: [['strategy_id', 'ASC'], ['seq', 'ASC']],
      limit
    })
    if (rows.length === 0) return { found: 0, published: 0 }
    const topics = [...new Map(rows.map((r) => [signalTopic(r.strategy_id, r.symbol), { strategy_id: r.strategy_id, symbol: r.symbol }])).values()]
    const newest = await Signal.findAll({
      attributes: ['strategy_id', 'symbol', [fn('MAX', col('seq')), 'seq']],
      where: { [Op.or]: topics },
      group: ['strategy_id', 'symbol'],
      raw: true
    }) as unknown as Array<{ strategy_id: string, symbol: string, seq: number | string }>
    const newestSeq = new Map(newest.map((n) => [signalTopic(n.strategy_id, n.symbol), Number(n.seq)]))
    const published = await this.publish(rows.map(toSignalView), (s) => newestSeq.get(signalTopic(s.strategy_id, s.symbol)) === s.seq)
    return { found: rows.length, published }
  }
}
