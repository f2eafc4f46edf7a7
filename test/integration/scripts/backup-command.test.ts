import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { main } from '../../../scripts/backup'
import { scratchDatabase, usingMysql, type ScratchDatabase } from '../../helpers/database'
import { startTestHub } from '../../helpers/hub'

const ROOT = join(__dirname, '..', '..', '..')

interface Run {
  code: number
  out: string[]
  err: string[]
}

/** scripts/backup.ts's main() with exactly `env`, as the compiled script runs it. */
async function backupCommand(env: Record<string, string>): Promise<Run> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(env, { out: (line) => out.push(line), err: (line) => err.push(line) })
  return { code, out, err }
}

function exec(command: string, args: string[], options: { env?: Record<string, string>, cwd?: string } = {}): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { env: options.env, cwd: options.cwd ?? ROOT, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

describe('scripts/backup.ts', () => {
  let scratch: ScratchDatabase
  let dir: string

  beforeAll(async () => {
    // a real database to back up: the hub creates its tables
    scratch = await scratchDatabase()
    const hub = await startTestHub({}, scratch)
    await hub.shutdown({ keepDatabase: true })
  })

  afterAll(async () => {
    await scratch.drop()
  })

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'signalhub-backup-command-'))
  })

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  test('main with the service\'s variables prints backup: progress lines and the archive path last', async () => {
    const run = await backupCommand({ DATABASE_URL: scratch.url, BACKUP_DIR: dir, BACKUP_KEEP: '1', BACKUP_REDIS: 'off' })
    expect(run).toMatchObject({ code: 0, err: [] })
    const archive = run.out.at(-1) as string
    expect(readdirSync(dir)).toEqual([archive.slice(dir.length + 1)])
    expect(run.out.slice(0, -1)).toEqual([
      expect.stringMatching(usingMysql ? /^backup: dumping MySQL database / : /^backup: copying SQLite database .* online \((cli|node)\)$/),
      expect.stringMatching(/^backup: archive written \(\d+ bytes: database\.sql(ite)?\)$/)
    ])
  })

  test('main reads DATABASE_URL_FILE when DATABASE_URL is unset', async () => {
    const secret = join(dir, 'database-url')
    writeFileSync(secret, `${scratch.url}\n`)
    const backups = join(dir, 'backups')
    const run = await backupCommand({ DATABASE_URL_FILE: secret, BACKUP_DIR: backups, BACKUP_REDIS: 'off' })
    expect(run.code).toBe(0)
    expect(readdirSync(backups)).toHaveLength(1)
  })

  test.each([
    ['BACKUP_KEEP=0', { BACKUP_KEEP: '0' }, /^backup: BACKUP_KEEP: .*\(got "0"\)$/],
    ['BACKUP_KEEP=abc', { BACKUP_KEEP: 'abc' }, /^backup: BACKUP_KEEP: .*\(got "abc"\)$/],
    ['BACKUP_KEEP=2.5', { BACKUP_KEEP: '2.5' }, /^backup: BACKUP_KEEP: .*\(got "2.5"\)$/],
    ['BACKUP_REDIS=bogus', { BACKUP_REDIS: 'bogus' }, /^backup: BACKUP_REDIS: .*"auto"\|"required"\|"off" \(got "bogus"\)$/],
    ['BACKUP_SQLITE_TOOL=bogus', { BACKUP_SQLITE_TOOL: 'bogus' }, /^backup: BACKUP_SQLITE_TOOL: .*"auto"\|"cli"\|"node" \(got "bogus"\)$/],
    ['an in-memory SQLite database', { DATABASE_URL: 'sqlite::memory:' }, /^backup: an in-memory SQLite database \(sqlite::memory:\) cannot be backed up$/],
    ['a SQLite file that does not exist', { DATABASE_URL: 'sqlite:/nonexistent/signalhub.sqlite' }, /^backup: SQLite database \/nonexistent\/signalhub.sqlite does not exist$/],
    ['a DATABASE_URL of another kind', { DATABASE_URL: 'postgres://u:hunter22@h/db' }, /^backup: DATABASE_URL: .*\(value hidden\)$/],
    ['a REDIS_URL that is not redis://', { REDIS_URL: 'http://127.0.0.1:6379' }, /^backup: REDIS_URL: .*\(value hidden\)$/],
    ['a DATABASE_URL_FILE that cannot be read', { DATABASE_URL: '', DATABASE_URL_FILE: '/nonexistent/secret' }, /^backup: DATABASE_URL_FILE: cannot read \/nonexistent\/secret$/]
  ])('main with %s exits 1 with one line naming the problem and writes nothing', async (_name, env, message) => {
    const backups = join(dir, 'backups')
    const run = await backupCommand({ DATABASE_URL: scratch.url, BACKUP_DIR: backups, ...env })
    expect(run).toMatchObject({ code: 1, out: [] })
    expect(run.err).toEqual([expect.stringMatching(message)])
    expect(run.err[0]).not.toContain('hunter22')
    expect(existsSync(backups)).toBe(false)
  })

  test('main with a BACKUP_DIR that cannot be created exits 1 naming it', async () => {
    writeFileSync(join(dir, 'a-file'), '')
    const backups = join(dir, 'a-file', 'backups')
    const run = await backupCommand({ DATABASE_URL: scratch.url, BACKUP_DIR: backups })
    expect(run).toMatchObject({ code: 1, out: [] })
    expect(run.err).toEqual([expect.stringMatching(new RegExp(`^backup: BACKUP_DIR ${backups} cannot be created: .*ENOTDIR`))])
  })

  describe('the built entry point, scripts/backup.sh over dist/scripts/backup.js', () => {
    let built: string

    beforeAll(async () => {
      // compiled afresh from the sources under test into a root of its own: never a stale dist/
      built = mkdtempSync(join(tmpdir(), 'signalhub-backup-build-'))
      writeFileSync(join(built, 'tsconfig.json'), JSON.stringify({
        extends: join(ROOT, 'tsconfig.build.json'),
        compilerOptions: { outDir: join(built, 'dist'), sourceMap: false, typeRoots: [join(ROOT, 'node_modules', '@types')] },
        include: [],
        files: [join(ROOT, 'scripts', 'backup.ts')]
      }))
      const tsc = await exec(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(built, 'tsconfig.json')])
      expect(tsc).toMatchObject({ code: 0, stdout: '' })
      mkdirSync(join(built, 'scripts'))
      cpSync(join(ROOT, 'scripts', 'backup.sh'), join(built, 'scripts', 'backup.sh'))
      cpSync(join(ROOT, 'package.json'), join(built, 'package.json'))
      symlinkSync(join(ROOT, 'node_modules'), join(built, 'node_modules'))
    }, 120_000)

    afterAll(() => {
      rmSync(built, { recursive: true, force: true })
    })

    const environment = (env: Record<string, string>): Record<string, string> => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env })

    test('scripts/backup.sh writes an archive, prints its path last and exits 0', async () => {
      const run = await exec('bash', [join(built, 'scripts', 'backup.sh')], { env: environment({ DATABASE_URL: scratch.url, BACKUP_DIR: dir, BACKUP_REDIS: 'off' }), cwd: dir })
      expect(run).toMatchObject({ code: 0, stderr: '' })
      const lines = run.stdout.trim().split('\n')
      expect(lines.slice(0, -1).every((line) => line.startsWith('backup: '))).toBe(true)
      expect(lines.at(-1)).toMatch(new RegExp(`^${dir}/signalhub-\\d{8}T\\d{6}\\.\\d{3}Z\\.tar\\.gz$`))
      expect(existsSync(lines.at(-1) as string)).toBe(true)
    }, 60_000)

    test('scripts/backup.sh with BACKUP_KEEP=abc exits non-zero with one line on stderr', async () => {
      const run = await exec('bash', [join(built, 'scripts', 'backup.sh')], { env: environment({ DATABASE_URL: scratch.url, BACKUP_DIR: dir, BACKUP_KEEP: 'abc' }), cwd: dir })
      expect(run).toMatchObject({ code: 1, stdout: '' })
      expect(run.stderr).toMatch(/^backup: BACKUP_KEEP: .*\(got "abc"\)\n$/)
      expect(readdirSync(dir)).toEqual([])
    }, 60_000)

    test('scripts/backup.sh without its compiled script and without TypeScript says how to build', async () => {
      const bare = join(dir, 'bare')
      mkdirSync(join(bare, 'scripts'), { recursive: true })
      cpSync(join(ROOT, 'scripts', 'backup.sh'), join(bare, 'scripts', 'backup.sh'))
      const run = await exec('bash', [join(bare, 'scripts', 'backup.sh')], { env: environment({ DATABASE_URL: scratch.url, BACKUP_DIR: dir }), cwd: dir })
      expect(run).toMatchObject({ code: 1, stdout: '' })
      expect(run.stderr).toBe(`backup: ${bare}/dist/scripts/backup.js is missing: run npm run build first\n`)
    })
  })
})
