import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { JobContext, JobDeps, JobResult } from './job'

/** The folder holding package.json, from either the sources or the compiled `dist/`. */
function projectRoot(): string {
  let dir = __dirname
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir)
  return dir
}

/** Runs `scripts/backup.sh` for the configured database (and Redis), keeping BACKUP_KEEP archives. */
export async function runBackup(core: JobDeps, { progress }: JobContext): Promise<JobResult> {
  const script = join(projectRoot(), 'scripts', 'backup.sh')
  const env = {
    ...process.env,
    DATABASE_URL: core.config.DATABASE_URL,
    REDIS_URL: core.config.REDIS_URL ?? '',
    BACKUP_DIR: core.config.BACKUP_DIR,
    BACKUP_KEEP: String(core.config.BACKUP_KEEP)
  }
  const archive = await new Promise<string>((done, fail) => {
    const child = spawn('bash', [script], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      progress(chunk.toString().trim())
    })
    child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString() })
    child.on('error', fail)
    child.on('close', (code) => {
      if (code === 0) done(out.trim().split('\n').at(-1) ?? '')
      else fail(new Error(`backup.sh exited with ${code}: ${err.trim().split('\n').at(-1) ?? ''}`))
    })
  })
  return { summary: `backup written: ${archive}`, counts: { archives: 1 } }
}
