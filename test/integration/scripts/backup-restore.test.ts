import { execFile, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { QueryTypes } from 'sequelize'
import { runJob } from '../../../core/jobs/scheduler'
import { Database } from '../../../models/database'
import { scratchDatabase, usingMysql, type ScratchDatabase } from '../../helpers/database'
import { startTestHub, type TestHub } from '../../helpers/hub'

const ROOT = join(__dirname, '..', '..', '..')
const BACKUP = join(ROOT, 'scripts', 'backup.sh')
const RESTORE = join(ROOT, 'scripts', 'restore.sh')
const HAS_REDIS_CLI = spawnSync('sh', ['-c', 'command -v redis-cli']).status === 0
const TABLES = ['roles', 'users', 'api_keys', 'permissions', 'strategies', 'signals', 'idempotency_keys', 'subscriptions', 'client_bindings', 'audit_logs', 'reports', 'schema_migrations']

interface ScriptRun {
  code: number
  stdout: string
  stderr: string
}

function run(script: string, args: string[], env: Record<string, string | undefined>): Promise<ScriptRun> {
  return new Promise((resolve) => {
    execFile('bash', [script, ...args], { env: { ...process.env, ...env }, cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
      resolve({ code, stdout, stderr })
    })
  })
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

function archiveEntries(archive: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile('tar', ['-tzf', archive], (err, stdout) => (err === null ? resolve(stdout.trim().split('\n')) : reject(err)))
  })
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

describe('backup.sh and restore.sh', () => {
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

    const backup = await run(BACKUP, [], { DATABASE_URL: scratch.url, REDIS_URL: process.env.REDIS_URL ?? '', BACKUP_DIR: dir, BACKUP_KEEP: '5' })
    expect(backup).toMatchObject({ code: 0 })
    const archive = backup.stdout.trim().split('\n').at(-1) as string
    expect(archive).toBe(join(dir, archivesIn(dir)[0]))
    const entries = await archiveEntries(archive)
    expect(entries).toContain('manifest.json')
    expect(entries).toContain(usingMysql ? 'database.sql' : 'database.sqlite')
    // Redis is snapshotted when REDIS_URL is set and redis-cli is installed, and skipped with a warning otherwise
    if (process.env.REDIS_URL !== undefined && HAS_REDIS_CLI) expect(entries).toContain('redis.rdb')
    if (process.env.REDIS_URL !== undefined && !HAS_REDIS_CLI) expect(backup.stderr).toContain('redis-cli is not installed')

    await hub.shutdown({ keepDatabase: true })
    hub = undefined
    expect(await snapshot(scratch.url)).toEqual(before)
    await wipe(scratch.url)

    const restore = await run(RESTORE, [archive], { DATABASE_URL: scratch.url })
    expect(restore).toMatchObject({ code: 0 })
    expect(await snapshot(scratch.url)).toEqual(before)

    hub = await startTestHub({}, scratch)
    const res = await fetch(`${hub.baseUrl}/readyz`)
    expect(res.status).toBe(200)
  }, 60_000)

  test('restore refuses a database that already has tables, and replaces it with --force', async () => {
    hub = await startTestHub({}, scratch)
    await seed(hub)
    const before = await snapshot(scratch.url)
    const backup = await run(BACKUP, [], { DATABASE_URL: scratch.url, REDIS_URL: '', BACKUP_DIR: dir })
    expect(backup.code).toBe(0)
    const archive = backup.stdout.trim().split('\n').at(-1) as string
    await hub.core.db.models.Signal.destroy({ where: { strategy_id: 'mean.rev' } })
    await hub.shutdown({ keepDatabase: true })
    hub = undefined

    const refused = await run(RESTORE, [archive], { DATABASE_URL: scratch.url })
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toMatch(/already holds \d+ tables.*--force/)
    expect((await snapshot(scratch.url)).counts.signals).toBe(10)

    const forced = await run(RESTORE, ['--force', archive], { DATABASE_URL: scratch.url })
    expect(forced).toMatchObject({ code: 0 })
    expect(await snapshot(scratch.url)).toEqual(before)
  }, 60_000)

  test('restore refuses a damaged archive and touches nothing', async () => {
    hub = await startTestHub({}, scratch)
    const backup = await run(BACKUP, [], { DATABASE_URL: scratch.url, REDIS_URL: '', BACKUP_DIR: dir })
    const archive = backup.stdout.trim().split('\n').at(-1) as string
    const bad = join(dir, 'bad')
    await new Promise<void>((resolve, reject) => execFile('bash', ['-c', `mkdir "${bad}" && tar -C "${bad}" -xzf "${archive}" && printf x >> "${bad}"/database.* && tar -C "${bad}" -czf "${bad}.tar.gz" .`], (err) => (err === null ? resolve() : reject(err))))
    await hub.shutdown({ keepDatabase: true })
    hub = undefined
    await wipe(scratch.url)
    const refused = await run(RESTORE, [`${bad}.tar.gz`], { DATABASE_URL: scratch.url })
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain('does not match its checksum')
    if (!usingMysql) expect(existsSync(scratch.url.slice('sqlite:'.length))).toBe(false)
  }, 60_000)

  test('BACKUP_KEEP=2 leaves the two newest of three archives', async () => {
    hub = await startTestHub({}, scratch)
    const written: string[] = []
    for (let i = 0; i < 3; i++) {
      const backup = await run(BACKUP, [], { DATABASE_URL: scratch.url, REDIS_URL: '', BACKUP_DIR: dir, BACKUP_KEEP: '2' })
      expect(backup.code).toBe(0)
      written.push(backup.stdout.trim().split('\n').at(-1) as string)
    }
    expect(archivesIn(dir).map((f) => join(dir, f))).toEqual(written.slice(1))
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([])
  }, 60_000)

  const sqliteOnly = usingMysql ? test.skip : test
  sqliteOnly('without the sqlite3 command the Node fallback (VACUUM INTO) round-trips too', async () => {
    hub = await startTestHub({}, scratch)
    await seed(hub)
    const before = await snapshot(scratch.url)
    const backup = await run(BACKUP, [], { DATABASE_URL: scratch.url, BACKUP_DIR: dir, BACKUP_SQLITE_TOOL: 'node' })
    expect(backup).toMatchObject({ code: 0 })
    expect(backup.stdout).toContain('(node)')
    await hub.shutdown({ keepDatabase: true })
    hub = undefined
    const archive = backup.stdout.trim().split('\n').at(-1) as string
    const refused = await run(RESTORE, [archive], { DATABASE_URL: scratch.url, BACKUP_SQLITE_TOOL: 'node' })
    expect(refused.stderr).toMatch(/already holds \d+ tables/)
    await wipe(scratch.url)
    expect(await run(RESTORE, [archive], { DATABASE_URL: scratch.url, BACKUP_SQLITE_TOOL: 'node' })).toMatchObject({ code: 0 })
    expect(await snapshot(scratch.url)).toEqual(before)
  }, 60_000)

  test('the backup job runs backup.sh, reports the archive and counts the run', async () => {
    hub = await startTestHub({ BACKUP_DIR: dir, BACKUP_KEEP: '3' }, scratch)
    const progress: string[] = []
    const result = await runJob(hub.core, 'backup', { progress: (m) => progress.push(m) })
    const archive = join(dir, archivesIn(dir)[0])
    expect(result.summary).toBe(`backup written: ${archive}`)
    expect(progress.join('\n')).toContain('backup: archive written')
    expect(await hub.core.metrics.registry.getSingleMetricAsString('signalhub_job_runs_total')).toContain('signalhub_job_runs_total{job_name="backup",result="ok"} 1')
  }, 60_000)

  test('a backup that cannot be taken fails the job, is counted, and leaves no archive', async () => {
    hub = await startTestHub({ BACKUP_DIR: dir }, { url: 'sqlite::memory:', drop: async () => undefined })
    await expect(runJob(hub.core, 'backup')).rejects.toThrow(/in-memory SQLite database/)
    expect(await hub.core.metrics.registry.getSingleMetricAsString('signalhub_job_runs_total')).toContain('signalhub_job_runs_total{job_name="backup",result="failed"} 1')
    expect(readdirSync(dir)).toEqual([])
  })
})
