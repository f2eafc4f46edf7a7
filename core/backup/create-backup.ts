import { existsSync, readFileSync, type Stats } from 'node:fs'
import { chmod, mkdir, mkdtemp, open, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import type { Config } from '../config'
import { BackupError } from './backup-error'
import { parseDatabaseUrl, parseRedisUrl, type DatabaseSource, type RedisSource } from './connection-urls'
import { copySqlite, pickSqliteTool, type SqliteTool } from './copy-sqlite'
import { dumpMysql } from './dump-mysql'
import { archiveName, pruneArchives } from './prune-archives'
import { commandExists, runCommand } from './run-command'
import { snapshotRedis } from './snapshot-redis'
import { writeManifest, type ManifestContent } from './write-manifest'

export type RedisMode = 'auto' | 'required' | 'off'
export type RedisStatus = ManifestContent['redis']

export interface BackupOptions {
  /** `sqlite:<file>` or `mysql://user:password@host:port/database` (DATABASE_URL). */
  databaseUrl: string
  /** `redis://[user:password@]host:port[/db]` (REDIS_URL); unset = no Redis snapshot. */
  redisUrl?: string
  /** Folder the archive is written to; created, private to its owner, when missing. */
  dir: string
  /** Archives kept in `dir`, newest first; older ones are deleted. */
  keep: number
  /**
   * auto: a snapshot when `redisUrl` is set and redis-cli is installed, and a failure is a
   * warning (managed Redis often refuses SYNC); required: a failure fails the backup; off.
   */
  redisMode: RedisMode
  /** auto: the sqlite3 command when installed, else Node's sqlite3 module; cli; node. */
  sqliteTool: SqliteTool
  /** Receives one line per step, without a prefix. */
  progress(line: string): void
  /** Receives a line about something left out of the backup; by default it goes to `progress`. */
  warn?(line: string): void
}

/** What the configuration says about backups (the DATABASE_URL, REDIS_URL and BACKUP_* settings). */
export type BackupSettings = Pick<Config, 'DATABASE_URL' | 'REDIS_URL' | 'BACKUP_DIR' | 'BACKUP_KEEP' | 'BACKUP_REDIS' | 'BACKUP_SQLITE_TOOL'>

/** The backup `settings` ask for, reporting through `report`. */
export function backupOptions(settings: BackupSettings, report: Pick<BackupOptions, 'progress' | 'warn'>): BackupOptions {
  return {
    databaseUrl: settings.DATABASE_URL,
    redisUrl: settings.REDIS_URL,
    dir: settings.BACKUP_DIR,
    keep: settings.BACKUP_KEEP,
    redisMode: settings.BACKUP_REDIS,
    sqliteTool: settings.BACKUP_SQLITE_TOOL,
    ...report
  }
}

export interface BackupResult {
  /** Absolute path of the archive written. */
  archive: string
  /** What the archive holds besides manifest.json. */
  files: string[]
  redis: RedisStatus
  /** Older archives deleted to keep `keep`, oldest first. */
  deleted: string[]
}

/** The version in Signal Hub's package.json, found from the sources and from `dist/` alike. */
function serviceVersion(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown, version?: unknown }
      if (pkg.name === 'signal-hub' && typeof pkg.version === 'string') return pkg.version
    }
    if (dirname(dir) === dir) return 'unknown'
  }
}

function reason(err: unknown): string {
  return (err as Error | undefined)?.message ?? String(err)
}

/** Refuses, before anything is written, a backup that cannot be taken. */
async function check(options: BackupOptions, database: DatabaseSource, redis: RedisSource | undefined): Promise<void> {
  if (!Number.isInteger(options.keep) || options.keep < 1) throw new BackupError(`BACKUP_KEEP must be a positive whole number, not ${options.keep}`)
  if (database.dialect === 'sqlite') {
    let found: Stats
    try {
      found = await stat(database.file)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BackupError(`SQLite database ${database.file} does not exist`)
      throw new BackupError(`SQLite database ${database.file} cannot be read: ${reason(err)}`)
    }
    if (!found.isFile()) throw new BackupError(`SQLite database ${database.file} is not a file`)
  }
  if (!commandExists('tar')) throw new BackupError('tar is not installed')
  if (redis !== undefined && options.redisMode === 'required' && !commandExists('redis-cli')) {
    throw new BackupError('redis-cli is not installed (BACKUP_REDIS=required)')
  }
}

/** Makes `dir` (private when created) and a private work folder in it, named after the archive. */
async function prepare(dir: string): Promise<{ archive: string, work: string }> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 })
  } catch (err) {
    throw new BackupError(`BACKUP_DIR ${dir} cannot be created: ${reason(err)}`)
  }
  let name = archiveName(new Date())
  while (existsSync(join(dir, name)) || existsSync(join(dir, `${name}.partial`))) name = archiveName(new Date())
  try {
    const work = await mkdtemp(join(dir, `.${name.replace(/\.tar\.gz$/, '')}.`))
    return { archive: join(dir, name), work }
  } catch (err) {
    throw new BackupError(`BACKUP_DIR ${dir} is not writable: ${reason(err)}`)
  }
}

async function backupDatabase(database: DatabaseSource, work: string, options: BackupOptions): Promise<string> {
  if (database.dialect === 'sqlite') {
    const tool = pickSqliteTool(options.sqliteTool)
    options.progress(`copying SQLite database ${database.file} online (${tool})`)
    await copySqlite(database.file, join(work, 'database.sqlite'), tool)
    return 'database.sqlite'
  }
  options.progress(`dumping MySQL database ${database.database} on ${database.host}:${database.port}`)
  await dumpMysql(database, join(work, 'database.sql'))
  return 'database.sql'
}

async function backupRedis(redis: RedisSource, work: string, options: BackupOptions): Promise<RedisStatus> {
  const warn = options.warn ?? options.progress
  if (!commandExists('redis-cli')) {
    warn('redis-cli is not installed: Redis is not in this backup')
    return 'skipped'
  }
  options.progress(`taking a Redis RDB snapshot from ${redis.host}:${redis.port}`)
  const target = join(work, 'redis.rdb')
  const result = await snapshotRedis(redis, target)
  const size = (await stat(target).catch(() => undefined))?.size ?? 0
  if (result.ok && size > 0) return 'ok'
  await rm(target, { force: true })
  const why = result.ok ? 'the snapshot is empty' : result.error
  if (options.redisMode === 'required') throw new BackupError(`Redis snapshot failed: ${why}`)
  warn(`Redis snapshot failed, Redis is not in this backup: ${why}`)
  return 'failed'
}

/** Packs `files` from `work` into `archive`: written as `.partial`, flushed, then renamed, so an archive is whole or absent. */
async function pack(work: string, files: string[], archive: string): Promise<number> {
  const partial = `${archive}.partial`
  const out = await open(partial, 'wx', 0o600)
  try {
    try {
      const result = await runCommand('tar', ['-C', work, '-czf', '-', ...files], { stdout: out.fd })
      if (!result.ok) throw new BackupError(`tar failed: ${result.error}`)
      await out.sync()
    } finally {
      await out.close()
    }
    await rename(partial, archive)
  } catch (err) {
    await rm(partial, { force: true })
    throw err
  }
  return (await stat(archive)).size
}

/**
 * Takes one backup: an online copy of the database (SQLite `.backup` or `VACUUM INTO`;
 * MySQL `mysqldump --single-transaction`), optionally a Redis RDB snapshot, and
 * manifest.json, packed into `dir/signalhub-<UTC stamp>.tar.gz`; then keeps the newest
 * `keep` archives. Every file it writes is readable by its owner only. Restore with
 * scripts/restore.sh.
 */
export async function createBackup(options: BackupOptions): Promise<BackupResult> {
  const database = parseDatabaseUrl(options.databaseUrl)
  const redis = options.redisUrl === undefined || options.redisUrl === '' || options.redisMode === 'off' ? undefined : parseRedisUrl(options.redisUrl)
  await check(options, database, redis)
  const dir = resolve(options.dir)
  const { archive, work } = await prepare(dir)
  let files: string[]
  let redisStatus: RedisStatus = 'none'
  let bytes: number
  try {
    files = [await backupDatabase(database, work, options)]
    if (redis !== undefined) redisStatus = await backupRedis(redis, work, options)
    if (redisStatus === 'ok') files.push('redis.rdb')
    // the tools create their files with the process umask; the archive keeps these modes
    for (const name of files) await chmod(join(work, name), 0o600)
    await writeManifest(work, {
      version: serviceVersion(),
      createdAt: new Date(),
      database: { dialect: database.dialect, name: database.dialect === 'sqlite' ? database.file : database.database },
      redis: redisStatus,
      files
    })
    bytes = await pack(work, ['manifest.json', ...files], archive)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
  options.progress(`archive written (${bytes} bytes: ${files.join(' ')})`)
  const deleted = await pruneArchives(dir, options.keep, basename(archive))
  for (const path of deleted) options.progress(`deleted old archive ${path}`)
  return { archive, files, redis: redisStatus, deleted }
}
