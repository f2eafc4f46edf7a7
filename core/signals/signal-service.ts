import { createHash } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { UniqueConstraintError } from 'sequelize'
import type { z } from 'zod'
import { isDatabaseUnavailable, type Database } from '../../models/database'
import type { AuditEntry, AuditTrail } from '../audit/audit-trail'
import { AppError, databaseUnavailable, type FieldIssue } from '../errors'
import { logger } from '../logger'
import type { Metrics } from '../metrics'
import type { PolicyStore } from '../policy/policy-store'
import type { Principal } from '../principal'
import { createSignalSchemas, type SignalInput, type SignalSchemas } from './signal-schema'
import { SignalStore } from './signal-store'
import { encodeSignal, signalTopic, type SignalView } from './signal-view'

export { encodeSignal, signalTopic, toSignalView, type SignalView } from './signal-view'

/** Where stored signals are handed for delivery: the MQTT broker. */
export interface MessageSink {
  publish(topic: string, payload: Buffer, options: { qos: 0 | 1, retain: boolean }): Promise<void>
}

export interface IngestContext {
  source: 'rest' | 'mqtt'
  ip?: string | null
  requestId?: string | null
  clientId?: string | null
  /**
   * Where the ingest's audit entry goes instead of the audit trail: the REST bridge folds it
   * into the request's access entry, so one request makes one audit row.
   */
  audit?: (entry: AuditEntry) => void
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

function issuesOf(error: z.ZodError, prefix: string): FieldIssue[] {
  return error.issues.map((i) => ({ path: [prefix, ...i.path.map(String)].filter((p) => p !== '').join('.'), message: i.message }))
}

/**
 * The one write path for signals, whichever door they come through:
 * validate → authorise (core policy) → store with the next `seq` of the strategy, in one
 * transaction shared with concurrent requests (`signal-store.ts`) → hand to the broker
 * (retained, QoS 1) → mark published.
 * A signal that could not be handed over stays unpublished in the table (the outbox)
 * and is published again by the outbox (`outbox.ts`). Every signal handed over is also emitted as
 * `published` (in order) for in-process readers such as the SSE stream.
 */
export class SignalService extends EventEmitter<{ published: [SignalView[]] }> {
  readonly schemas: SignalSchemas
  private sink?: MessageSink
  private readonly now: () => Date
  private readonly handOffTimeoutMs: number
  private readonly store: SignalStore

  constructor(
    db: Database,
    private readonly policy: PolicyStore,
    private readonly audit: AuditTrail,
    private readonly metrics: Metrics,
    options: SignalServiceOptions
  ) {
    super()
    this.schemas = createSignalSchemas(options)
    this.now = options.now ?? (() => new Date())
    this.handOffTimeoutMs = options.handOffTimeoutMs ?? 3000
    this.store = new SignalStore(db, this.now)
  }

  setSink(sink: MessageSink): void {
    this.sink = sink
  }

  /** Resolves once every signal write and published-mark under way is done. */
  settled(): Promise<void> {
    return this.store.settled()
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
      const result = await this.write(principal, items, options).catch((err: unknown) => {
        throw isDatabaseUnavailable(err) ? databaseUnavailable(err) : err
      })
      if (!result.replayed) {
        this.metrics.signalsIngested.inc({ source: options.source }, result.signals.length)
        await this.publish(result.signals, undefined, false)
      }
      const record = options.audit ?? ((entry: AuditEntry) => this.audit.record(entry))
      record({
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
      const record = options.audit ?? ((entry: AuditEntry) => this.audit.record(entry))
      record({
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

  private async write(principal: Principal, items: SignalInput[], options: { batch?: boolean, idempotencyKey?: string }): Promise<IngestResult> {
    this.authorize(principal, items)
    const key = options.idempotencyKey
    const batch = options.batch ?? false
    const hash = key === undefined ? '' : this.requestHash(items, batch)
    const replay = async (): Promise<IngestResult | null> => {
      if (key === undefined) return null
      const signals = await this.store.replay(principal, key, hash)
      return signals === null ? null : { signals, replayed: true }
    }
    const earlier = await replay()
    if (earlier !== null) return earlier
    try {
      return { signals: await this.store.store({ principal, items, key, hash, batch }), replayed: false }
    } catch (err) {
      // the same key committed meanwhile by a concurrent request: answer with its result
      const raced = err instanceof UniqueConstraintError ? await replay() : null
      if (raced !== null) return raced
      throw err
    }
  }

  /**
   * Hands signals to the broker, in order, each retained on its topic unless `retain` says
   * otherwise; the first failure (or a hand-off slower than the timeout) stops the rest,
   * which stay in the outbox (`signal_outbox`, swept by `Outbox`). Returns how many were
   * handed over. Those handed over are marked published, gathered with other requests'
   * marks; the ingest path does not wait for that (`awaitMark` false), the outbox does
   * (it must see its marks before it reads the next batch); `settled()` waits for them.
   */
  async publish(signals: SignalView[], retain: (s: SignalView) => boolean = () => true, awaitMark = true): Promise<number> {
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
      const marked = this.store.markPublished(published).catch((err: unknown) => {
        logger.warn('signals: could not mark signals published; they may be delivered again', { err: (err as Error).message })
      })
      if (awaitMark) await marked
    }
    return published.length
  }
}
