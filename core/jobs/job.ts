import type { Redis } from 'ioredis'
import type { Database } from '../../models/database'
import type { AuditTrail } from '../audit/audit-trail'
import type { KeyService } from '../auth/key-service'
import type { ChangeBus } from '../change-bus'
import type { Config } from '../config'
import type { Metrics } from '../metrics'
import type { Notifier } from '../notifier'

/** What the jobs work with, given once by `createCore`. */
export interface JobDeps {
  config: Config
  db: Database
  audit: AuditTrail
  keys: KeyService
  bus: ChangeBus
  notifier: Notifier
  metrics: Metrics
  /** Redis for commands, when REDIS_URL is set: one node per run when several are deployed. */
  redis?: Redis
  now: () => Date
}

/** What a job is given: the instant it runs for, and a place to report progress. */
export interface JobContext {
  now: Date
  progress(message: string): void
}

/** A job's outcome: one summary line and the counts behind it. */
export interface JobResult {
  summary: string
  counts: Record<string, number>
}

export type Job = (deps: JobDeps, context: JobContext) => Promise<JobResult>
