import { execFile, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { QueryTypes } from 'sequelize'
import { createBackup, type BackupOptions, type BackupResult } from '../../../core/backup/create-backup'
import { Database } from '../../../models/database'
import { scratchDatabase, usingMysql, type ScratchDatabase } from '../../helpers/database'
import { startTestHub, type TestHub } from '../../helpers/hub'

const ROOT = join(__dirname, '..', '..', '..')
const RESTORE = join(ROOT, 'scripts', 'restore.sh')
const HAS_REDIS_CLI = spawnSync('sh', ['-c', 'command -v redis-cli']).status === 0
const TABLES = ['roles', 'users', 'api_keys', 'permissions', 'strategies', 'signals', 'idempotency_keys', 'subscriptions', 'client_bindings', 'audit_logs', 'reports', 'schema_migrations']
const sqliteOnly = usingMysql ? test.skip : test
const mysqlOnly = usingMysql ? test : test.skip

interface ScriptRun {
  code: number
  stdout: string
  stderr: string
}

function run(command: string, args: string[], env: Record<string, string | undefined> = {}): Promise<ScriptRun> {
  return new Promise((resolve) => {
    execFile(command, args, { env: { ...process.env, ...env }, cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
      resolve({ code, stdout, stderr })
    })
  })
}

function restore(args: string[], env: Record<string, string>): Promise<ScriptRun> {
  return run('bash', [RESTORE, ...args], env)
}

interface Backup extends BackupResult {
  lines: string[]
  warnings: string[]
}

/** One backup of `url` into `dir` through the core function, with its progress lines and warnings. */
async function backup(url: string, dir: string, options: Partial<BackupOptions> = {}): Promise<Backup> {
  const lines: string[] = []
  const warnings: string[] = []
  const result = await createBackup({
    databaseUrl: url,
    dir,
    keep: 14,
    redisMode: 'auto',
    sqliteTool: 'auto',
    progress: (line) => lines.push(line),
    warn: (line) => warnings.push(line),
    ...options
  })
  return { ...result, lines, warnings }
}

/** Row counts of every table, and a SHA-256 over the signals table's rows in id order. */
async function snapshot(url: string): Promise<{ counts: Record<string, number>, signals: string }> {
  const db = new Database(url)
  try {
    const counts: Record<string, number> = {}
    for (const table of TABLES) {
      const [row] = await db.sequelize.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`, { type: QueryTypes.SELECT })
      counts[table] = Number(row.n)
    }
    const rows = await db.sequelize.query('SELECT * FROM signals ORDER BY id', { type: QueryTypes.SELECT })
    return { counts, signals: createHash('sha256').update(JSON.stringify(rows)).digest('hex') }
  } finally {
    await db.close()
  }
}

/** Leaves the database empty: the SQLite file deleted, or every MySQL table dropped. */
async function wipe(url: string): Promise<void> {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length)
    for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) rmSync(f, { force: true })
    return
  }
  const db = new Database(url)
  try {
    const tables = await db.sequelize.query<{ name: string }>('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()', { type: QueryTypes.SELECT })
    // one connection (a transaction) so the session setting covers every DROP
    await db.sequelize.transaction(async (transaction) => {
      await db.sequelize.query('SET FOREIGN_KEY_CHECKS = 0', { transaction })
      for (const t of tables) await db.sequelize.query(`DROP TABLE \`${t.name}\``, { transaction })
    })
  } finally {
    await db.close()
  }
}

function archivesIn(dir: string): string[] {
  return readdirSync(dir).filter((f) => /^signalhub-\d{8}T\d{6}\.\d{3}Z\.tar\.gz$/.test(f)).sort()
}

async function archiveEntries(archive: string): Promise<string[]> {
  const listed = await run('tar', ['-tzf', archive])
  expect(listed.code).toBe(0)
  return listed.stdout.trim().split('\n')
}

/** Unpacks `archive` into a new folder and returns its path. */
async function unpack(archive: string, into: string): Promise<string> {
  mkdirSync(into)
  expect(await run('tar', ['-C', into, '-xzf', archive])).toMatchObject({ code: 0 })
  return into
}

/** A loopback TCP port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function seed(hub: TestHub): Promise<void> {
  const owner = await hub.user('owner', 'publisher')
  const reader = await hub.user('reader', 'subscriber')
  await hub.strategy('trend-1', owner)
  await hub.strategy('mean.rev', owner, 'private')
  await hub.subscribe(reader, 'trend-1', ['AAPL'])
  for (let i = 0; i < 20; i++) {
    const { items } = hub.core.signals.parseRestBody({
      strategy_id: i % 2 === 0 ? 'trend-1' : 'mean.rev',
      symbol: i % 3 === 0 ? 'AAPL' : '600519.SH',
      type: i % 2 === 0 ? 'buy' : 'sell',
      execute_date: `2026-11-${String(1 + (i % 20)).padStart(2, '0')}T09:30:00.${String(i).padStart(3, '0')}+08:00`,
      description: `信号 ${i} — "quoted" \\ back'slash 📈`,
      payload: { price: 100 + i / 8, lots: i, note: null }
    })
    await hub.core.signals.ingest(owner.principal, items, { source: 'rest', idempotencyKey: i % 5 === 0 ? `k-${i}` : undefined })
  }
  // published marks are written in the background; the snapshot should see them
  await hub.core.signals.settled()
  await hub.core.audit.flush()
}

describe('createBackup and restore.sh', () => {
  let scratch: ScratchDatabase
  let dir: string
  let hub: TestHub | undefined

  beforeEach(async () => {
    scratch = await scratchDatabase()
    dir = mkdtempSync(join(tmpdir(), 'signalhub-backups-'))
  })

  afterEach(async () => {
    await hub?.shutdown()
    hub = undefined
    await scratch.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  test('backup while running, wipe, restore into the empty database: same row counts and signals checksum', async () => {
    hub = await startTestHub({}, scratch)
    await seed(hub)
    const before = await snapshot(scratch.url)
    expect(before.counts.signals).toBe(20)

    const taken = await backup(scratch.url, dir, { redisUrl: process.env.REDIS_URL, keep: 5 })
    expect(taken.archive).toBe(join(dir, archivesIn(dir)[0]))
    const entries = await archiveEntries(taken.archive)
    expect(entries).toEqual(['manifest.json', ...taken.files])
    expect(taken.files[0]).toBe(usingMysql ? 'database.sql' : 'database.sqlite')
    // Redis is snapshotted when REDIS_URL is set and redis-cli is installed, and skipped with a warning otherwise
    if (process.env.REDIS_URL === undefined) expect(taken.redis).toBe('none')
    else if (HAS_REDIS_CLI) expect(taken).toMatchObject({ redis: 'ok', files: [expect.any(String), 'redis.rdb'], warnings: [] })
    else expect(taken).toMatchObject({ redis: 'skipped', warnings: ['redis-cli is not installed: Redis is not in this backup'] })

    await hub.shutdown({ keepDatabase: true })
    hub = undefined
    expect(await snapshot(scratch.url)).toEqual(before)
    await wipe(scratch.url)

    expect(await restore([taken.archive], { DATABASE_URL: scratch.url })).toMatchObject({ code: 0 })
    expect(await snapshot(scratch.url)).toEqual(before)

    hub = await startTestHub({}, scratch)
    const res = await fetch(`${hub.baseUrl}/readyz`)
    expect(res.status).toBe(200)
  }, 60_000)

  test('restore refuses a database that already has tables, and replaces it with --force', async () => {
    hub = await startTestHub({}, scratch)
    await seed(hub)
    const before = await snapshot(scratch.url)
    const { archive } = await backup(scratch.url, dir)
    await hub.database().models.Signal.destroy({ where: { strategy_id: 'mean.rev' } })
    await hub.shutdown({ keepDatabase: true })
    hub = undefined

    const refused = await restore([archive], { DATABASE_URL: scratch.url })
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toMatch(/already holds \d+ tables.*--force/)
    expect((await snapshot(scratch.url)).counts.signals).toBe(10)

    const forced = await restore(['--force', archive], { DATABASE_URL: scratch.url })
    expect(forced).toMatchObject({ code: 0 })
    expect(await snapshot(scratch.url)).toEqual(before)
  }, 60_000)

  test('restore refuses a damaged archive and touches nothing', async () => {
    hub = await startTestHub({}, scratch)
    const { archive } = await backup(scratch.url, dir)
    const bad = await unpack(archive, join(dir, 'bad'))
    const [database] = readdirSync(bad).filter((f) => f.startsWith('database.'))
    writeFileSync(join(bad, database), 'x', { flag: 'a' })
    expect(await run('tar', ['-C', bad, '-czf', `${bad}.tar.gz`, '.'])).toMatchObject({ code: 0 })
    await hub.shutdown({ keepDatabase: true })
    hub = undefined
    await wipe(scratch.url)
    const refused = await restore([`${bad}.tar.gz`], { DATABASE_URL: scratch.url })
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain('does not match its checksum')
    if (!usingMysql) expect(existsSync(scratch.url.slice('sqlite:'.length))).toBe(false)
  }, 60_000)

  test('the manifest is format 1 JSON with each file\'s size and checksum, and every file is private', async () => {
    hub = await startTestHub({}, scratch)
    const privateDir = join(dir, 'new', 'folder')
    const taken = await backup(scratch.url, privateDir)
    expect(statSync(privateDir).mode & 0o777).toBe(0o700)
    expect(statSync(taken.archive).mode & 0o777).toBe(0o600)
    const listing = await run('tar', ['-tvzf', taken.archive])
    expect(listing.stdout.trim().split('\n').map((line) => line.slice(0, 10))).toEqual(['-rw-------', '-rw-------'])

    const inside = await unpack(taken.archive, join(dir, 'inside'))
    const manifest = JSON.parse(readFileSync(join(inside, 'manifest.json'), 'utf8')) as Record<string, unknown>
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
    const name = usingMysql ? new URL(scratch.url).pathname.slice(1) : scratch.url.slice('sqlite:'.length)
    const file = taken.files[0]
    const content = readFileSync(join(inside, file))
    expect(manifest).toEqual({
      format: 1,
      service: 'signal-hub',
      version: pkg.version,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      host: expect.any(String),
      database: { dialect: usingMysql ? 'mysql' : 'sqlite', name },
      redis: 'none',
      files: [{ name: file, bytes: content.length, sha256: createHash('sha256').update(content).digest('hex') }]
    })
  }, 60_000)

  test('keep 2 leaves the two newest of three archives, and only archives are deleted', async () => {
    hub = await startTestHub({}, scratch)
    writeFileSync(join(dir, 'notes.txt'), 'kept')
    writeFileSync(join(dir, 'signalhub-manual.tar.gz'), 'kept')
    const written: Backup[] = []
    for (let i = 0; i < 3; i++) written.push(await backup(scratch.url, dir, { keep: 2 }))
    expect(archivesIn(dir).map((f) => join(dir, f))).toEqual(written.slice(1).map((b) => b.archive))
    expect(written.map((b) => b.deleted)).toEqual([[], [], [written[0].archive]])
    expect(written[2].lines).toContain(`deleted old archive ${written[0].archive}`)
    expect(readdirSync(dir).filter((f) => !archivesIn(dir).includes(f)).sort()).toEqual(['notes.txt', 'signalhub-manual.tar.gz'])
  }, 60_000)

  test('retention never deletes the archive just written, even when others are named later', async () => {
    hub = await startTestHub({}, scratch)
    const later = ['signalhub-29991231T235959.998Z.tar.gz', 'signalhub-29991231T235959.999Z.tar.gz']
    for (const name of later) writeFileSync(join(dir, name), 'from a clock set ahead')
    const taken = await backup(scratch.url, dir, { keep: 2 })
    expect(existsSync(taken.archive)).toBe(true)
    expect(taken.deleted).toEqual([join(dir, later[0])])
    expect(archivesIn(dir)).toHaveLength(2)
  }, 60_000)

  sqliteOnly('without the sqlite3 command the Node fallback (VACUUM INTO) round-trips too', async () => {
    hub = await startTestHub({}, scratch)
    await seed(hub)
    const before = await snapshot(scratch.url)
    const taken = await backup(scratch.url, dir, { sqliteTool: 'node' })
    expect(taken.lines[0]).toMatch(/^copying SQLite database .* online \(node\)$/)
    await hub.shutdown({ keepDatabase: true })
    hub = undefined
    const refused = await restore([taken.archive], { DATABASE_URL: scratch.url, BACKUP_SQLITE_TOOL: 'node' })
    expect(refused.stderr).toMatch(/already holds \d+ tables/)
    await wipe(scratch.url)
    expect(await restore([taken.archive], { DATABASE_URL: scratch.url, BACKUP_SQLITE_TOOL: 'node' })).toMatchObject({ code: 0 })
    expect(await snapshot(scratch.url)).toEqual(before)
  }, 60_000)

  test.each(['cli', 'node'] as const)('a file that is not a SQLite database fails the backup (%s) and leaves nothing behind', async (tool) => {
    const file = join(dir, 'not-a-database.sqlite')
    writeFileSync(file, 'this is not a database '.repeat(100))
    const out = join(dir, 'out')
    await expect(backup(`sqlite:${file}`, out, { sqliteTool: tool })).rejects.toThrow(/the SQLite copy failed: .*not a database/)
    expect(readdirSync(out)).toEqual([])
  })

  test('a SQLite database that does not exist fails the backup before anything is written', async () => {
    const out = join(dir, 'out')
    await expect(backup(`sqlite:${join(dir, 'missing.sqlite')}`, out)).rejects.toThrow(`SQLite database ${join(dir, 'missing.sqlite')} does not exist`)
    expect(existsSync(out)).toBe(false)
  })

  test.each([0, -1, 1.5, Number.NaN])('keep %s is refused before anything is written', async (keep) => {
    hub = await startTestHub({}, scratch)
    const out = join(dir, 'out')
    await expect(backup(scratch.url, out, { keep })).rejects.toThrow(/BACKUP_KEEP must be a positive whole number/)
    expect(existsSync(out)).toBe(false)
  })

  test('a BACKUP_DIR that cannot be created fails the backup with its name', async () => {
    hub = await startTestHub({}, scratch)
    writeFileSync(join(dir, 'a-file'), '')
    await expect(backup(scratch.url, join(dir, 'a-file', 'backups'))).rejects.toThrow(`BACKUP_DIR ${join(dir, 'a-file', 'backups')} cannot be created`)
  })

  const asNonRoot = process.getuid?.() === 0 ? test.skip : test
  asNonRoot('a BACKUP_DIR that is not writable fails the backup with its name', async () => {
    hub = await startTestHub({}, scratch)
    const locked = join(dir, 'locked')
    mkdirSync(locked, { mode: 0o500 })
    await expect(backup(scratch.url, locked)).rejects.toThrow(`BACKUP_DIR ${locked} is not writable`)
    expect(readdirSync(locked)).toEqual([])
  })

  test('an unreachable Redis is a warning with BACKUP_REDIS=auto and a failure with required', async () => {
    hub = await startTestHub({}, scratch)
    const redisUrl = `redis://127.0.0.1:${await closedPort()}`
    const tolerated = await backup(scratch.url, dir, { redisUrl, redisMode: 'auto' })
    const failure = HAS_REDIS_CLI ? /^Redis snapshot failed, Redis is not in this backup: .*refused/ : /^redis-cli is not installed/
    expect(tolerated.redis).toBe(HAS_REDIS_CLI ? 'failed' : 'skipped')
    expect(tolerated.warnings).toEqual([expect.stringMatching(failure)])
    expect(await archiveEntries(tolerated.archive)).toEqual(['manifest.json', tolerated.files[0]])

    await expect(backup(scratch.url, dir, { redisUrl, redisMode: 'required' })).rejects.toThrow(HAS_REDIS_CLI ? /^Redis snapshot failed: .*refused/ : /redis-cli is not installed/)
    expect(archivesIn(dir)).toEqual([tolerated.archive.slice(dir.length + 1)])
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([])

    const off = await backup(scratch.url, dir, { redisUrl, redisMode: 'off' })
    expect(off).toMatchObject({ redis: 'none', warnings: [] })
  }, 60_000)

  mysqlOnly('a wrong MySQL password fails the backup with mysqldump\'s reason, never the password', async () => {
    const url = new URL(scratch.url)
    url.password = 'not-the-password-7f3a'
    const attempt = backup(url.toString(), dir)
    await expect(attempt).rejects.toThrow(/^mysqldump failed: .*Access denied/)
    await expect(attempt).rejects.toThrow(expect.objectContaining({ message: expect.not.stringContaining('not-the-password-7f3a') }))
    expect(readdirSync(dir)).toEqual([])
  })

  test('the backup job writes an archive, reports it with unprefixed progress lines, and counts the run', async () => {
    hub = await startTestHub({ BACKUP_DIR: dir, BACKUP_KEEP: '3', BACKUP_REDIS: 'off' }, scratch)
    const progress: string[] = []
    const result = await hub.core.jobs.run('backup', { progress: (m) => progress.push(m) })
    const archive = join(dir, archivesIn(dir)[0])
    expect(result).toEqual({ summary: `backup written: ${archive}`, counts: { archives: 1, files: 1, deleted: 0 } })
    expect(progress.at(-1)).toMatch(/^archive written \(\d+ bytes: database\.sql(ite)?\)$/)
    expect(progress.filter((line) => line.startsWith('backup:'))).toEqual([])
    expect(await hub.core.metrics.registry.getSingleMetricAsString('signalhub_job_runs_total')).toContain('signalhub_job_runs_total{job_name="backup",result="ok"} 1')
  }, 60_000)

  test('a backup that cannot be taken fails the job, is counted, and leaves no archive', async () => {
    hub = await startTestHub({ BACKUP_DIR: dir }, { url: 'sqlite::memory:', drop: async () => undefined })
    await expect(hub.core.jobs.run('backup')).rejects.toThrow(/in-memory SQLite database/)
    expect(await hub.core.metrics.registry.getSingleMetricAsString('signalhub_job_runs_total')).toContain('signalhub_job_runs_total{job_name="backup",result="failed"} 1')
    expect(readdirSync(dir)).toEqual([])
  })
})
