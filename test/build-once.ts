import { execFile } from 'node:child_process'
import { join } from 'node:path'

/**
 * Global setup of the `compiled` jest project: the suites that run what production runs
 * (`node dist/main.js` under PM2 or alone, the built console in a browser) get a build of
 * this checkout, made once per jest run, never one left over from other sources.
 * Jest runs a project's global setup only when one of its suites is selected.
 */
export default async function buildOnce(): Promise<void> {
  const root = join(__dirname, '..')
  const started = Date.now()
  await new Promise<void>((resolve, reject) => {
    execFile('npm', ['run', 'build'], { cwd: root, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err === null) resolve()
      else reject(new Error(`npm run build failed before the compiled suites:\n${stdout}\n${stderr}`))
    })
  })
  process.stderr.write(`\nbuilt dist/ and console/dist/ for the compiled suites in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
}
