import { logger } from '../logger'
import type { SignalService } from './signal-service'

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

  constructor(private readonly signals: SignalService, options: OutboxOptions = {}) {
    this.intervalMs = options.intervalMs ?? 10_000
    this.graceMs = options.graceMs ?? 5_000
    this.batchSize = options.batchSize ?? 500
    this.maxBatches = options.maxBatches ?? 20
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
   * Publishes pending signals until none is left or a hand-off fails; resolves with how many
   * were handed over. Never rejects (failures are logged: the next sweep tries again), and a
   * sweep already under way is joined rather than run twice.
   */
  sweep(graceMs = this.graceMs): Promise<number> {
    this.running ??= this.drain(graceMs).finally(() => { this.running = undefined })
    return this.running
  }

  private async drain(graceMs: number): Promise<number> {
    let total = 0
    try {
      for (let batch = 0; batch < this.maxBatches && !this.stopped; batch++) {
        const { found, published } = await this.signals.republish(graceMs, this.batchSize)
        total += published
        if (found < this.batchSize || published < found) break
      }
    } catch (err) {
      logger.warn('outbox: sweep failed; retrying at the next one', { err: (err as Error).message })
    }
    if (total > 0) logger.warn('outbox: published signals left unpublished earlier', { count: total })
    return total
  }

  /** Stops the timer and waits for a sweep under way, so the broker can close after it. */
  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    await this.running
  }
}

/** Starts the outbox of a node (see `Outbox`). */
export function startOutbox(signals: SignalService, options: OutboxOptions = {}): Outbox {
  return new Outbox(signals, options).start()
}
