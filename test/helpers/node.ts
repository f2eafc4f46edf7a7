import { cliContext } from '../../core/action-context'
import type { AuditEntryView, AuditQuery } from '../../core/audit/audit-query'
import { loadConfig, type Config, type Env } from '../../core/config'
import { createCore, migrateDatabase, type Core, type CoreOptions } from '../../core/core'
import { Database } from '../../models/database'
import { scratchDatabase, type ScratchDatabase } from './database'
import { fixtures, uniqueId, type Fixtures } from './fixtures'

/**
 * What every test harness shares (core only, bridge, full hub): a core on a scratch
 * database, Redis when REDIS_URL is set (under a prefix of its own), loopback and port 0,
 * the fixtures of fixtures.ts, and a separate connection for tests that must look at or
 * change stored rows.
 */
export interface TestNode extends Fixtures {
  core: Core
  config: Config
  scratch: ScratchDatabase
  /**
   * A connection of the test's own to this node's database (never the core's), for what
   * no service shows or does: counting rows, ageing a timestamp, breaking a row.
   * Opened on first use, closed by `stop`.
   */
  database(): Database
  /** Every audit entry matching `query` (buffered ones included), newest first, as admins read them. */
  audit(query?: Omit<AuditQuery, 'cursor' | 'limit'>): Promise<AuditEntryView[]>
  /** Stops the node and keeps its database (for a restart or a second node). */
  stop(): Promise<void>
  /** Stops the node and drops its database, unless `keepDatabase`. */
  shutdown(options?: { keepDatabase?: boolean }): Promise<void>
}

/** The configuration of a test node: loopback, port 0, quiet, no scheduled jobs, its own Redis prefix. */
export function testConfig(scratch: ScratchDatabase, env: Env = {}): Config {
  return loadConfig({
    DATABASE_URL: scratch.url,
    REDIS_URL: process.env.REDIS_URL,
    REDIS_PREFIX: `${uniqueId('sht')}:`,
    HOST: '127.0.0.1',
    HTTP_PORT: '0',
    MQTT_PORT: '0',
    MQTT_TLS_PORT: '0',
    LOG_LEVEL: 'silent',
    JOBS_ENABLED: 'false',
    ...env
  })
}

/**
 * A migrated scratch database whose user ids start at a random offset. MQTT topics carry
 * user ids (`users/<id>/notices`), and Redis carries every node's publishes to every other
 * node on the same server, whatever its prefix: test processes running side by side must
 * not hand out the same ids.
 */
export async function freshDatabase(): Promise<ScratchDatabase> {
  const scratch = await scratchDatabase()
  await migrateDatabase(scratch.url)
  const db = new Database(scratch.url)
  try {
    const first = 1_000_000 + Math.floor(Math.random() * 1_000_000) * 1000
    if (db.dialect === 'mysql') await db.sequelize.query(`ALTER TABLE users AUTO_INCREMENT = ${first}`)
    else await db.sequelize.query('INSERT INTO sqlite_sequence (name, seq) VALUES (\'users\', ?)', { replacements: [first - 1] })
  } finally {
    await db.close()
  }
  return scratch
}

/** The parts of `TestNode` around a running core; `close` stops what the harness started besides the core. */
export function testNode(core: Core, scratch: ScratchDatabase, close: () => Promise<void>): TestNode {
  let inspection: Database | undefined
  let stopped: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await close()
      await inspection?.close()
    })()
    return stopped
  }
  return {
    ...fixtures(core),
    core,
    config: core.config,
    scratch,
    database: () => {
      inspection ??= new Database(scratch.url)
      return inspection
    },
    async audit(query = {}) {
      const entries: AuditEntryView[] = []
      let cursor: string | undefined
      do {
        const page = await core.auditLog.query(cliContext('test'), { ...query, limit: 500, cursor })
        entries.push(...page.data)
        cursor = page.next_cursor ?? undefined
      } while (cursor !== undefined)
      return entries
    },
    stop,
    async shutdown(options = {}) {
      await stop()
      if (options.keepDatabase !== true) await scratch.drop()
    }
  }
}

/**
 * A core alone (no broker, no HTTP), for the service tests. Every harness takes the
 * same arguments: environment on top of `testConfig`'s, the database of an earlier or
 * another node (else a fresh one), core options such as a clock.
 */
export async function startCore(env: Env = {}, scratch?: ScratchDatabase, options: CoreOptions = {}): Promise<TestNode> {
  const db = scratch ?? await freshDatabase()
  const core = await createCore(testConfig(db, env), options)
  return testNode(core, db, () => core.close())
}
