import { Op } from 'sequelize'
import type { Database } from '../../models/database'
import { logger } from '../logger'
import { signalTopic, toSignalView, type SignalView } from './signal-view'

/**
 * Hands signals to the broker in order, each retained unless `retain` says otherwise, and
 * marks those handed over published (their `signal_outbox` rows deleted) before resolving
 * with how many they were; it stops at the first failure. `SignalService.publish` is one.
 */
export type PublishSignals = (signals: SignalView[], retain: (s: SignalView) => boolean) => Promise<number>

export interface OutboxOptions {
  /** Milliseconds between sweeps (default 10000). */
  intervalMs?: number
  /**
   * Milliseconds a signal must have been stored before a sweep takes it (default 5000): younger
   * ones may still be on their way to the broker from the request that stored them.
   */
  graceMs?: number
  /** Signals read per batch; a sweep reads batches until one comes back short (default 500). */
  batchSize?: number
  /** Most batches per sweep, so one sweep cannot run unbounded (default 20). */
  maxBatches?: number
  /** The clock the grace period is measured on: the one signals are stored with (default: the system clock). */
  now?: () => Date
}

/**
 * The outbox: signals committed but never handed to the broker (the process died between
 * commit and hand-off, or the Redis fan-out refused it) still have their `signal_outbox` row. A sweep at
 * start and then every `intervalMs` publishes them, oldest first per strategy. Delivery is at
 * least once: a signal may reach a subscriber twice (several nodes sweep, a hand-off that
 * timed out still arrived), and subscribers drop repeats by `(strategy_id, seq)`.
 */
export class Outbox {
  private timer?: NodeJS.Timeout
  private running?: Promise<number>
  private stopped = false
  private readonly intervalMs: number
  private readonly graceMs: number
  private readonly batchSize: number
  private readonly maxBatches: number
  private readonly now: () => Date

  constructor(private readonly db: Database, private readonly publish: PublishSignals, options: OutboxOptions = {}) {
    this.intervalMs = options.intervalMs ?? 10_000
    this.graceMs = options.graceMs ?? 5_000
    this.batchSize = options.batchSize ?? 500
    this.maxBatches = options.maxBatches ?? 20
    this.now = options.now ?? (() => new Date())
  }

  /** Sweeps now, then every `intervalMs` until `stop`. */
  start(): this {
    this.stopped = false
    void this.sweep()
    this.timer = setInterval(() => void this.sweep(), this.intervalMs)
    this.timer.unref()
    return this
  }

  /**
   * Publishes pending signals older than `graceMs` until none is left or a hand-off fails;
   * resolves with how many were handed over. Never rejects (failures are logged: the next
   * sweep tries again), and a sweep already under way is joined rather than run twice.
   */
  sweep(graceMs = this.graceMs): Promise<number> {
    this.running ??= this.drain(graceMs).finally(() => { this.running = undefined })
    return this.running
  }

  /** Stops the timer and waits for a sweep under way, so the broker can close after it. */
  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    await this.running
  }

  private async drain(graceMs: number): Promise<number> {
    let total = 0
    try {
      for (let batch = 0; batch < this.maxBatches && !this.stopped; batch++) {
        const { found, published } = await this.publishBatch(graceMs)
        total += published
        if (found < this.batchSize || published < found) break
      }
    } catch (err) {
      logger.warn('outbox: sweep failed; retrying at the next one', { err: (err as Error).message })
    }
    if (total > 0) logger.warn('outbox: published signals left unpublished earlier', { count: total })
    return total
  }

  /**
   * Publishes the oldest `batchSize` pending signals stored more than `graceMs` ago, oldest
   * first per strategy. A signal is retained only if it is still the newest on its topic, so
   * a late one never replaces a newer retained signal. Resolves with how many outbox rows
   * were found and how many of those were dealt with (handed over, or dropped as orphans).
   */
  private async publishBatch(graceMs: number): Promise<{ found: number, published: number }> {
    const { Signal, SignalOutbox } = this.db.models
    const cutoff = new Date(this.now().getTime() - graceMs)
    // the oldest first: ids grow with each strategy's seq
    const waiting = await SignalOutbox.findAll({ where: { created_at: { [Op.lte]: cutoff } }, order: [['signal_id', 'ASC']], limit: this.batchSize })
    if (waiting.length === 0) return { found: 0, published: 0 }
    const rows = await Signal.findAll({ where: { id: waiting.map((w) => w.signal_id) }, order: [['strategy_id', 'ASC'], ['seq', 'ASC']] })
    if (rows.length < waiting.length) {
      // the foreign key removes a deleted signal's row; one left without its signal is dropped here
      const present = new Set(rows.map((r) => r.id))
      await SignalOutbox.destroy({ where: { signal_id: waiting.map((w) => w.signal_id).filter((id) => !present.has(id)) } })
    }
    // orphans removed count as dealt with, so a full batch of them keeps the sweep draining
    const orphans = waiting.length - rows.length
    if (rows.length === 0) return { found: waiting.length, published: orphans }
    const topics = [...new Map(rows.map((r) => [signalTopic(r.strategy_id, r.symbol), [r.strategy_id, r.symbol]])).values()]
    const newest = await this.db.query<{ strategy_id: string, symbol: string, seq: number | string }>(
      `SELECT strategy_id, symbol, MAX(seq) AS seq FROM signals WHERE ${topics.map((_t, i) => `(strategy_id = $${2 * i + 1} AND symbol = $${2 * i + 2})`).join(' OR ')} GROUP BY strategy_id, symbol`,
      topics.flat(),
      { select: true }
    )
    const newestSeq = new Map(newest.map((n) => [signalTopic(n.strategy_id, n.symbol), Number(n.seq)]))
    const published = await this.publish(rows.map(toSignalView), (s) => newestSeq.get(signalTopic(s.strategy_id, s.symbol)) === s.seq)
    return { found: waiting.length, published: published + orphans }
  }
}

/** Starts the outbox of a node (see `Outbox`). */
export function startOutbox(db: Database, publish: PublishSignals, options: OutboxOptions = {}): Outbox {
  return new Outbox(db, publish, options).start()
}
