import type { BindValue, Database } from '../../models/database'
import type { AuditResult } from '../../models/audit-log.model'
import { logger } from '../logger'

const AUDIT_TABLE = 'audit_logs'
const AUDIT_COLUMNS = ['at', 'user_id', 'actor', 'action', 'resource', 'result', 'ip', 'client_id', 'request_id', 'detail'] as const

/** One access or operation. `detail` is a short summary; never put a secret in it. */
export interface AuditEntry {
  action: string
  result: AuditResult
  userId?: number | null
  actor?: string | null
  resource?: string | null
  ip?: string | null
  clientId?: string | null
  requestId?: string | null
  detail?: Record<string, unknown>
  at?: Date
}

export interface AuditTrailOptions {
  /** Milliseconds between flushes. */
  flushIntervalMs?: number
  /**
   * A buffer this full is flushed at once; also the most rows per INSERT (default 100:
   * building a statement is synchronous work, so it is kept to about a millisecond).
   */
  maxBatch?: number
  /** Entries kept while the database is unreachable; past it the oldest are dropped (and logged). */
  maxBuffered?: number
}

/** An entry as the row it is written as: values in AUDIT_COLUMNS order, cut to their columns. */
function toRow(e: AuditEntry, at: Date): BindValue[] {
  return [
    at,
    e.userId ?? null,
    e.actor?.slice(0, 100) ?? null,
    e.action.slice(0, 64),
    e.resource?.slice(0, 255) ?? null,
    e.result,
    e.ip?.slice(0, 64) ?? null,
    e.clientId?.slice(0, 128) ?? null,
    e.requestId?.slice(0, 64) ?? null,
    e.detail === undefined ? null : detailJson(e.detail)
  ]
}

/** The detail as JSON; one that cannot be (a BigInt, a cycle) is replaced by a note, so that the entry is still written. */
function detailJson(detail: Record<string, unknown>): string {
  try {
    return JSON.stringify(detail)
  } catch (err) {
    return JSON.stringify({ unserialisable_detail: (err as Error).message })
  }
}

/**
 * The audit table, written in batches off the hot path: `record` turns the entry into its
 * row and appends it to a buffer (a row of flat values, not the entry's objects, is what
 * waits there: under load entries wait long enough for the garbage collector to copy
 * them); a full buffer is written at once as a batch of `maxBatch` rows, and a timer
 * writes whatever else there is, so that under load every INSERT carries a full batch.
 * Every entry is also logged as a JSON line at `http` level.
 */
export class AuditTrail {
  private buffer: BindValue[][] = []
  private timer?: NodeJS.Timeout
  private flushing: Promise<void> = Promise.resolve()
  /** A write of full batches is queued and has not started yet. */
  private fullBatchQueued = false
  private readonly flushIntervalMs: number
  private readonly maxBatch: number
  private readonly maxBuffered: number
  dropped = 0

  constructor(private readonly db: Database, options: AuditTrailOptions = {}) {
    this.flushIntervalMs = options.flushIntervalMs ?? 1000
    this.maxBatch = options.maxBatch ?? 100
    this.maxBuffered = options.maxBuffered ?? 100000
  }

  start(): void {
    this.timer ??= setInterval(() => { void this.flush() }, this.flushIntervalMs)
    this.timer.unref()
  }

  record(entry: AuditEntry): void {
    const at = entry.at ?? new Date()
    if (logger.isLevelEnabled('http')) logger.http('audit', { audit: { ...entry, at: at.toISOString() } })
    this.buffer.push(toRow(entry, at))
    if (this.buffer.length > this.maxBuffered) {
      this.buffer.splice(0, this.buffer.length - this.maxBuffered)
      this.dropped++
    }
    if (this.buffer.length >= this.maxBatch && !this.fullBatchQueued) {
      this.fullBatchQueued = true
      void this.enqueue(false)
    }
  }

  /** Writes everything buffered so far; resolves when it is stored (or kept for retry). */
  flush(): Promise<void> {
    return this.enqueue(true)
  }

  private enqueue(everything: boolean): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeBuffered(everything))
    return this.flushing
  }

  /** Writes batches while the buffer holds a full one (or, with `everything`, anything). */
  private async writeBuffered(everything: boolean): Promise<void> {
    if (!everything) this.fullBatchQueued = false
    while (this.buffer.length >= (everything ? 1 : this.maxBatch)) {
      const batch = this.buffer.splice(0, this.maxBatch)
      try {
        await this.db.insertValues(AUDIT_TABLE, AUDIT_COLUMNS, batch)
      } catch (err) {
        this.buffer.unshift(...batch)
        logger.warn('audit: could not write a batch, will retry', { err: (err as Error).message, pending: this.buffer.length })
        return
      }
    }
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    await this.flush()
  }
}
