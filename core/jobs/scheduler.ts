import cron, { type RunCoordinator, type ScheduledTask } from 'node-cron'
import type { Redis } from 'ioredis'
import type { Config } from '../config'
import { logger } from '../logger'
import { runBackup } from './backup'
import { cleanupLogs } from './cleanup-logs'
import type { Job, JobDeps, JobResult } from './job'
import { produceReports } from './reports'
import { rotateKeys } from './rotate-keys'

export const JOBS = {
  'cleanup-logs': cleanupLogs,
  reports: produceReports,
  'rotate-keys': rotateKeys,
  backup: runBackup
} as const satisfies Record<string, Job>

export type JobName = keyof typeof JOBS

export function isJobName(name: string): name is JobName {
  return Object.hasOwn(JOBS, name)
}

/** With several nodes, one run per job and slot: the first node to set the Redis key runs it. */
export function redisRunCoordinator(redis: Redis, prefix: string): RunCoordinator {
  return {
    async shouldRun(key: string, ttlMs: number): Promise<boolean> {
      return (await redis.set(`${prefix}job:${key}`, '1', 'PX', Math.max(ttlMs, 60_000), 'NX')) === 'OK'
    }
  }
}

const SCHEDULES: Record<JobName, (c: Config) => string> = {
  'cleanup-logs': (c) => c.JOB_CLEANUP_LOGS_CRON,
  reports: (c) => c.JOB_REPORTS_CRON,
  'rotate-keys': (c) => c.JOB_ROTATE_KEYS_CRON,
  backup: (c) => c.JOB_BACKUP_CRON
}

/** The scheduled jobs: run on demand (`run`), or on their cron schedules (`start`). */
export class Jobs {
  constructor(private readonly deps: JobDeps) {}

  /**
   * Runs one job now: logged, audited, counted in `/metrics`. A failure is reported and
   * rethrown to the caller (the CLI exits non-zero; the scheduler logs and carries on).
   */
  async run(name: JobName, options: { now?: Date, progress?: (message: string) => void } = {}): Promise<JobResult> {
    const { audit, metrics } = this.deps
    const started = Date.now()
    const now = options.now ?? this.deps.now()
    const progress = options.progress ?? ((message: string) => logger.debug('job progress', { job: name, message }))
    try {
      const result = await JOBS[name](this.deps, { now, progress })
      metrics.jobRuns.inc({ job_name: name, result: 'ok' })
      audit.record({ action: 'job.run', result: 'ok', resource: `job/${name}`, detail: { summary: result.summary, ms: Date.now() - started } })
      logger.info('job finished', { job: name, summary: result.summary, ms: Date.now() - started })
      return result
    } catch (err) {
      metrics.jobRuns.inc({ job_name: name, result: 'failed' })
      audit.record({ action: 'job.run', result: 'failed', resource: `job/${name}`, detail: { error: (err as Error).message } })
      logger.error('job failed', { job: name, err: (err as Error).message })
      throw err
    }
  }

  /** Schedules every job whose cron is not `off`, in TZ_DEFAULT. Returns a function that stops them. */
  start(): () => Promise<void> {
    const { config, redis } = this.deps
    const tasks: ScheduledTask[] = []
    const coordinator = redis === undefined ? undefined : redisRunCoordinator(redis, config.REDIS_PREFIX)
    for (const name of Object.keys(JOBS) as JobName[]) {
      const expression = SCHEDULES[name](config)
      if (expression === 'off') continue
      tasks.push(cron.schedule(expression, async () => {
        await this.run(name).catch(() => undefined)
      }, {
        name,
        timezone: config.TZ_DEFAULT,
        noOverlap: true,
        unref: true,
        ...(coordinator === undefined ? {} : { distributed: true, runCoordinator: coordinator, distributedLease: 10 * 60_000 })
      }))
    }
    logger.info('jobs scheduled', { jobs: tasks.map((t) => `${t.name ?? '?'} ${t.getPattern()}`) })
    return async () => {
      await Promise.all(tasks.map(async (t) => t.destroy()))
    }
  }
}
