import { ConfigError, loadConfig } from '../core/config'
import { migrateDatabase } from '../core/core'

/** `npm run migrate`: applies pending migrations to DATABASE_URL and prints what it applied. */
async function main(): Promise<number> {
  let url: string
  try {
    url = loadConfig().DATABASE_URL
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`)
      return 1
    }
    throw err
  }
  const applied = await migrateDatabase(url)
  process.stdout.write(applied.length === 0 ? 'database is up to date\n' : `applied: ${applied.join(', ')}\n`)
  return 0
}

main().then((code) => {
  process.exitCode = code
}, (err: unknown) => {
  process.stderr.write(`migration failed: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
})
