import { backupOptions, createBackup } from '../core/backup/create-backup'
import { loadConfig, type Env } from '../core/config'

/** What the backup reads from the environment; the service reads the same names. */
const VARIABLES = ['DATABASE_URL', 'DATABASE_URL_FILE', 'REDIS_URL', 'REDIS_URL_FILE', 'BACKUP_DIR', 'BACKUP_KEEP', 'BACKUP_REDIS', 'BACKUP_SQLITE_TOOL']

export interface BackupOutput {
  out(line: string): void
  err(line: string): void
}

/**
 * `scripts/backup.sh` and `npm run backup`: one backup with the service's own settings,
 * validated as the service validates them (other variables are not read, so a backup
 * still runs when an unrelated setting is broken). Progress goes to stdout as
 * `backup: …` lines and warnings to stderr; the LAST stdout line is the archive's path.
 * Returns the exit code.
 */
export async function main(env: Env, io: BackupOutput): Promise<number> {
  try {
    const config = loadConfig(Object.fromEntries(VARIABLES.map((name) => [name, env[name]])))
    const result = await createBackup(backupOptions(config, {
      progress: (line) => io.out(`backup: ${line}`),
      warn: (line) => io.err(`backup: warning: ${line}`)
    }))
    io.out(result.archive)
    return 0
  } catch (err) {
    io.err(`backup: ${err instanceof Error ? err.message : String(err)}`)
    return 1
  }
}

if (require.main === module) {
  process.umask(0o077)
  main(process.env, {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`)
  }).then((code) => {
    process.exitCode = code
  })
}
