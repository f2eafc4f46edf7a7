import { Sequelize, Transaction, type Options } from 'sequelize'
import { defineApiKey } from './api-key.model'
import { defineAuditLog } from './audit-log.model'
import { defineClientBinding } from './client-binding.model'
import { defineIdempotencyKey } from './idempotency-key.model'
import { definePermission } from './permission.model'
import { defineReport } from './report.model'
import { defineRole } from './role.model'
import { defineSignal } from './signal.model'
import { defineStrategy } from './strategy.model'
import { defineSubscription } from './subscription.model'
import { defineUser } from './user.model'

export type Dialect = 'sqlite' | 'mysql'

function defineModels(sequelize: Sequelize) {
  return {
    Role: defineRole(sequelize),
    User: defineUser(sequelize),
    ApiKey: defineApiKey(sequelize),
    Permission: definePermission(sequelize),
    Strategy: defineStrategy(sequelize),
    Signal: defineSignal(sequelize),
    IdempotencyKey: defineIdempotencyKey(sequelize),
    Subscription: defineSubscription(sequelize),
    ClientBinding: defineClientBinding(sequelize),
    AuditLog: defineAuditLog(sequelize),
    Report: defineReport(sequelize)
  }
}

export type Models = ReturnType<typeof defineModels>

export interface DatabaseOptions {
  /** Largest number of pooled connections (MySQL). */
  poolMax?: number
  /** Milliseconds to wait for a pooled connection before failing (bounds requests during an outage). */
  acquireTimeoutMs?: number
}

interface SqliteHandle {
  configure(option: 'busyTimeout', value: number): void
}

/**
 * One database connection with its models. Each `Database` defines its own model
 * classes, so several (two nodes in one test, a restart) can live in one process.
 */
export class Database {
  readonly sequelize: Sequelize
  readonly models: Models
  readonly dialect: Dialect
  private sqliteQueue: Promise<unknown> = Promise.resolve()

  constructor(url: string, options: DatabaseOptions = {}) {
    const common: Options = { logging: false, benchmark: false }
    if (url.startsWith('sqlite:')) {
      const storage = url === 'sqlite::memory:' ? ':memory:' : url.slice('sqlite:'.length)
      this.sequelize = new Sequelize({ ...common, dialect: 'sqlite', storage, transactionType: Transaction.TYPES.IMMEDIATE })
      this.dialect = 'sqlite'
      this.configureSqliteConnections()
    } else {
      this.sequelize = new Sequelize(url.replace(/^mariadb:/, 'mysql:'), {
        ...common,
        dialect: 'mysql',
        timezone: '+00:00',
        pool: { max: options.poolMax ?? 10, min: 0, acquire: options.acquireTimeoutMs ?? 5000, idle: 10000 },
        dialectOptions: { connectTimeout: 3000, supportBigNumbers: true, bigNumberStrings: false }
      })
      this.dialect = 'mysql'
    }
    this.models = defineModels(this.sequelize)
  }

  /** SQLite waits for a lock instead of failing at once, and writes through a WAL journal. */
  private configureSqliteConnections(): void {
    const manager = this.sequelize.connectionManager as unknown as { getConnection: (o?: unknown) => Promise<SqliteHandle> }
    const getConnection = manager.getConnection.bind(manager)
    const configured = new WeakSet<SqliteHandle>()
    manager.getConnection = async (o?: unknown) => {
      const connection = await getConnection(o)
      if (!configured.has(connection)) {
        connection.configure('busyTimeout', 5000)
        configured.add(connection)
      }
      return connection
    }
  }

  /**
   * Runs `work` in a transaction. MySQL runs them concurrently (row locks); SQLite
   * has one writer at a time, so its transactions are queued in-process.
   */
  async transaction<T>(work: (t: Transaction) => Promise<T>): Promise<T> {
    if (this.dialect === 'mysql') {
      return this.sequelize.transaction({ isolationLevel: Transaction.ISOLATION_LEVELS.READ_COMMITTED }, work)
    }
    const run = this.sqliteQueue.then(() => this.sequelize.transaction(work))
    this.sqliteQueue = run.catch(() => undefined)
    return run
  }

  /** True when a trivial query answers. */
  async ping(): Promise<boolean> {
    try {
      await this.sequelize.query('SELECT 1')
      return true
    } catch {
      return false
    }
  }

  async close(): Promise<void> {
    await this.sequelize.close()
  }
}
