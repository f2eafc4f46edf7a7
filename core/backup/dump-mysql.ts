import { open, type FileHandle } from 'node:fs/promises'
import { BackupError } from './backup-error'
import type { MysqlSource } from './connection-urls'
import { commandExists, runCommand } from './run-command'

/** A consistent snapshot without table locks (InnoDB), with everything a restore needs. */
const DUMP_OPTIONS = ['--single-transaction', '--routines', '--triggers', '--events', '--no-tablespaces', '--hex-blob',
  '--default-character-set=utf8mb4', '--skip-lock-tables', '--quick']

/** MySQL 8 client options that MariaDB's mysqldump does not know: added when `--help` lists them. */
const MYSQL8_OPTIONS: Array<[string, string]> = [
  ['--set-gtid-purged', '--set-gtid-purged=OFF'],
  ['--column-statistics', '--column-statistics=0']
]

/** The last line mysqldump writes when it finished (its comments are on by default). */
const COMPLETE_MARK = 'Dump completed'

async function tail(file: FileHandle, bytes: number): Promise<string> {
  const { size } = await file.stat()
  const length = Math.min(size, bytes)
  const { buffer } = await file.read(Buffer.alloc(length), 0, length, size - length)
  return buffer.toString()
}

/**
 * Dumps `source` with mysqldump into `target` (created, private). The password goes in
 * MYSQL_PWD, never on a command line, where any local user could read it.
 */
export async function dumpMysql(source: MysqlSource, target: string): Promise<void> {
  if (!commandExists('mysqldump')) throw new BackupError('mysqldump is not installed (apt-get install default-mysql-client, or mysql-client)')
  const help = await runCommand('mysqldump', ['--help'], { stdout: 'capture' })
  const extra = MYSQL8_OPTIONS.filter(([known]) => help.stdout.includes(known)).map(([, option]) => option)
  const connection = [`--host=${source.host}`, `--port=${source.port}`, '--protocol=TCP', ...(source.user === '' ? [] : [`--user=${source.user}`])]
  const env: NodeJS.ProcessEnv = { ...process.env, MYSQL_PWD: source.password }
  if (source.password === '') delete env.MYSQL_PWD
  const file = await open(target, 'wx+', 0o600)
  try {
    const result = await runCommand('mysqldump', [...connection, ...DUMP_OPTIONS, ...extra, '--', source.database], { env, stdout: file.fd })
    if (!result.ok) throw new BackupError(`mysqldump failed: ${result.error}`)
    if (!(await tail(file, 200)).includes(COMPLETE_MARK)) throw new BackupError('mysqldump output is incomplete')
  } finally {
    await file.close()
  }
}
