import type { Core } from '../core'

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

export type Job = (core: Core, context: JobContext) => Promise<JobResult>
