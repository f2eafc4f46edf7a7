import { basename, dirname, resolve } from 'node:path'
import { Database, OPEN_READONLY } from 'sqlite3'
import { BackupError } from './backup-error'
import { commandExists, runCommand } from './run-command'

export type SqliteTool = 'auto' | 'cli' | 'node'

/** How long either tool waits for a writer's lock before giving up, in milliseconds. */
const BUSY_TIMEOUT_MS = 10_000

/** `auto` is the sqlite3 command when it is installed, else Node's sqlite3 module. */
export function pickSqliteTool(tool: SqliteTool): 'cli' | 'node' {
  if (tool !== 'auto') return tool
  return commandExists('sqlite3') ? 'cli' : 'node'
}

/** `.backup` uses SQLite's online backup API: a consistent copy while the service writes. */
async function copyWithCli(source: string, target: string): Promise<void> {
  if (!commandExists('sqlite3')) throw new BackupError('the sqlite3 command is not installed (BACKUP_SQLITE_TOOL=cli)')
  // run inside the target's folder so the dot-command's argument is a plain name that needs no quoting
  const result = await runCommand('sqlite3', ['-bail', resolve(source), `.timeout ${BUSY_TIMEOUT_MS}`, `.backup ${basename(target)}`], { cwd: dirname(target) })
  if (!result.ok) throw new BackupError(`the SQLite copy failed: ${result.error}`)
}

/** `VACUUM INTO` writes a consistent, compacted copy inside one read transaction. */
function copyWithNode(source: string, target: string): Promise<void> {
  return new Promise((done, fail) => {
    const failed = (err: Error): void => fail(new BackupError(`the SQLite copy failed: ${err.message}`))
    const db = new Database(source, OPEN_READONLY, (openError) => {
      if (openError !== null) return failed(openError)
      db.configure('busyTimeout', BUSY_TIMEOUT_MS)
      db.run('VACUUM INTO ?', [target], (copyError: Error | null) => {
        db.close((closeError) => {
          const err = copyError ?? closeError
          if (err === null) done()
          else failed(err)
        })
      })
    })
  })
}

/** Copies the SQLite database `source` to `target` (a new file) with the given tool. */
export async function copySqlite(source: string, target: string, tool: 'cli' | 'node'): Promise<void> {
  if (tool === 'cli') await copyWithCli(source, target)
  else await copyWithNode(source, target)
}
