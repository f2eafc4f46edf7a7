import { backupOptions, createBackup } from '../backup/create-backup'
import { logger } from '../logger'
import type { JobContext, JobDeps, JobResult } from './job'

/** Backs up the configured database (and Redis) into BACKUP_DIR, keeping BACKUP_KEEP archives. */
export async function runBackup(deps: JobDeps, { progress }: JobContext): Promise<JobResult> {
  const result = await createBackup(backupOptions(deps.config, {
    progress,
    warn: (line) => {
      logger.warn('backup incomplete', { job: 'backup', reason: line })
      progress(`warning: ${line}`)
    }
  }))
  return {
    summary: `backup written: ${result.archive}`,
    counts: { archives: 1, files: result.files.length, deleted: result.deleted.length }
  }
}
