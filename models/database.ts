import type { Connection as MysqlConnection } from 'mysql2'
import * as sqlite3 from 'sqlite3'
import { AccessDeniedError, BaseError, ConnectionAcquireTimeoutError, ConnectionError, DatabaseError, QueryTypes, Sequelize, Transaction, type Options } from 'sequelize'
import { defineApiKey } from './api-key.model'
import { defineAuditLog } from './audit-log.model'
import { defineClientBinding } from './client-binding.model'
import { defineIdempotencyKey } from './idempotency-key.model'
import { definePermission } from './permission.model'
import { defineReport } from './report.model'
import { defineRole } from './role.model'
import { defineSignal } from './signal.model'
import { defineSignalOutbox } from './signal-outbox.model'
import { defineStrategy } from './strategy.model'
import { defineSubscription } from './subscription.model'
import { defineUser } from './user.model'

export type Dialect = 'sqlite' | 'mysql'

/** A value bound to a statement parameter (`$1`, `$2`, …). */
export type BindValue = string | number | boolean | null | Date

function defineModels(sequelize: Sequelize) {
  return {
    Role: defineRole(sequelize),
    User: defineUser(sequelize),
    ApiKey: defineApiKey(sequelize),
    Permission: definePermission(sequelize),
    Strategy: defineStrategy(sequelize),
    Signal: defineSignal(sequelize),
    SignalOutbox: defineSignalOutbox(sequelize),
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
  /** Milliseconds a new MySQL connection may take to answer its handshake. */
  connectTimeoutMs?: number
  /** Milliseconds after a failed connection attempt during which new attempts fail at once (MySQL). */
  failFastMs?: number
  /** Told the text of every statement run, for diagnostics (bound values are not part of it). */
  logSql?: (sql: string) => void
  /**
   * Whether `INSERT … RETURNING` may be used (default: when the server is MariaDB 10.5 or
   * later). SQLite has it too, but Sequelize does not return the rows of an SQLite INSERT.
   */
  insertReturning?: boolean
}

/** Driver error codes that mean the link to the database is gone, not that a statement is wrong. */
const LINK_ERROR_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH',
  'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_SERVER_SHUTDOWN', 'ER_CON_COUNT_ERROR', 'SQLITE_BUSY'
])

/**
 * True when `err` says the database cannot be reached right now (refused, timed out, link
 * lost, pool exhausted, busy), so the request may succeed later: callers answer 503 with
 * Retry-After instead of 500. A wrong statement or a constraint violation is not one.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof BaseError)) return false
  if (err.name === 'SequelizeAccessDeniedError') return false
  if (err instanceof ConnectionError) return true
  if (!(err instanceof DatabaseError)) return false
  const parent = err.parent as Error & { code?: string, fatal?: boolean }
  return LINK_ERROR_CODES.has(parent.code ?? '') || parent.fatal === true || /closed state|database is locked/i.test(parent.message)
}

/** Rows per INSERT statement on SQLite (see `Database.insertValues`). */
const SQLITE_ROWS_PER_INSERT = 25

/** Milliseconds an SQLite connection waits for another connection's lock before failing with SQLITE_BUSY. */
const SQLITE_BUSY_TIMEOUT_MS = 5000

/**
 * sqlite3 as Sequelize loads it (its `dialectModule` option), except that every connection
 * it opens waits up to SQLITE_BUSY_TIMEOUT_MS for a lock instead of failing at once, and
 * switches a file database to a WAL journal, so that readers never block the writer (the
 * mode stays with the file). Sequelize's SQLite dialect runs no connect hooks; this is where
 * its connections can be configured.
 */
const sqliteDriver = {
  ...sqlite3,
  Database: function open(filename: string, mode: number, callback: (err: Error | null) => void): sqlite3.Database {
    const connection = new sqlite3.Database(filename, mode, (err) => {
      if (err !== null) return callback(err)
      connection.configure('busyTimeout', SQLITE_BUSY_TIMEOUT_MS)
      if (filename === ':memory:' || filename === '') return callback(null)
      connection.run('PRAGMA journal_mode=WAL', (walErr) => callback(walErr))
    })
    return connection
  }
}

/**
 * Statements mysql2 keeps prepared per pooled connection (the least recently used is closed
 * first). A statement with bound values is prepared on MySQL, one per distinct text, and a
 * multi-row INSERT's text depends on its row count; the server allows about 16,000 in all
 * (`max_prepared_stmt_count`), for every node's pool together.
 */
const PREPARED_STATEMENTS_PER_CONNECTION = 128

/**
 * Every MySQL connection reads committed data (InnoDB's READ COMMITTED): locking reads,
 * UPDATEs and DELETEs then lock the rows they change, not the gaps between index records.
 * Under REPEATABLE READ the published-marks' `DELETE … WHERE signal_id IN (…)` locks the
 * index record after its range, which can be a signal's outbox row that a concurrent ingest
 * transaction has just inserted, and the two deadlock over the gap before it.
 */
const READ_COMMITTED = 'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED'

/** A new connection refused because one just failed to connect (see `DatabaseOptions.failFastMs`). */
class DatabaseUnreachableError extends ConnectionError {}

/**
 * One database connection with its models. Each `Database` defines its own model
 * classes, so several (two nodes in one test, a restart) can live in one process.
 */
export class Database {
  readonly sequelize: Sequelize
  readonly models: Models
  readonly dialect: Dialect
  private sqliteQueue: Promise<unknown> = Promise.resolve()
  private unreachableUntil = 0
  private readonly failFastMs: number
  private returning?: Promise<boolean>

  constructor(url: string, options: DatabaseOptions = {}) {
    const common: Options = { logging: options.logSql ?? false, benchmark: false }
    this.failFastMs = options.failFastMs ?? 1000
    if (options.insertReturning !== undefined) this.returning = Promise.resolve(options.insertReturning)
    if (url.startsWith('sqlite:')) {
      const storage = url === 'sqlite::memory:' ? ':memory:' : url.slice('sqlite:'.length)
      this.sequelize = new Sequelize({ ...common, dialect: 'sqlite', dialectModule: sqliteDriver, storage, transactionType: Transaction.TYPES.IMMEDIATE })
      this.dialect = 'sqlite'
    } else {
      this.sequelize = new Sequelize(url.replace(/^mariadb:/, 'mysql:'), {
        ...common,
        dialect: 'mysql',
        timezone: '+00:00',
        pool: { max: options.poolMax ?? 10, min: 0, acquire: options.acquireTimeoutMs ?? 5000, idle: 10000 },
        dialectOptions: {
          connectTimeout: options.connectTimeoutMs ?? 3000,
          supportBigNumbers: true,
          bigNumberStrings: false,
          maxPreparedStatements: PREPARED_STATEMENTS_PER_CONNECTION
        },
        hooks: {
          beforeConnect: () => this.refuseWhileUnreachable(),
          afterConnect: async (connection) => { await (connection as MysqlConnection).promise().query(READ_COMMITTED) }
        }
      })
      this.dialect = 'mysql'
    }
    this.models = defineModels(this.sequelize)
  }

  /**
   * After a connection attempt failed (refused, or no handshake within the connect timeout),
   * new attempts fail at once for `failFastMs`. Requests that queue behind a failed one then
   * fail at once too instead of each waiting for its own connect timeout, which keeps every
   * request during an outage within the pool's acquire timeout.
   */
  private refuseWhileUnreachable(): void {
    if (Date.now() < this.unreachableUntil) throw new DatabaseUnreachableError(new Error('database unreachable (a connection attempt just failed)'))
  }

  /** Starts the fail-fast window when `err` is a connection attempt that failed (not one refused by it). */
  private noteFailure(err: unknown): void {
    if (!(err instanceof ConnectionError)) return
    if (err instanceof DatabaseUnreachableError || err instanceof AccessDeniedError || err instanceof ConnectionAcquireTimeoutError) return
    this.unreachableUntil = Date.now() + this.failFastMs
  }

  /**
   * Runs `work` in a transaction. MySQL runs them concurrently (row locks); SQLite
   * has one writer at a time, so its transactions are queued in-process.
   */
  async transaction<T>(work: (t: Transaction) => Promise<T>): Promise<T> {
    if (this.dialect === 'mysql') {
      try {
        return await this.sequelize.transaction(work)
      } catch (err) {
        this.noteFailure(err)
        throw err
      }
    }
    const run = this.sqliteQueue.then(() => this.sequelize.transaction(work))
    this.sqliteQueue = run.catch(() => undefined)
    return run
  }

  /**
   * Runs `sql` with its `$1`, `$2`, … bound to `values` (on MySQL a prepared statement).
   * Resolves with the rows of a SELECT (`select`); for other statements with none.
   */
  async query<Row extends object>(sql: string, values: readonly BindValue[], options: { transaction?: Transaction, select?: boolean } = {}): Promise<Row[]> {
    const bind = values.map((v) => this.parameter(v))
    if (options.select === true) return this.sequelize.query<Row>(sql, { bind, transaction: options.transaction, type: QueryTypes.SELECT })
    await this.sequelize.query(sql, { bind, transaction: options.transaction })
    return []
  }

  /** Runs an UPDATE with its `$1`, `$2`, … bound to `values`; resolves with how many rows it changed. */
  async update(sql: string, values: readonly BindValue[], transaction?: Transaction): Promise<number> {
    return this.sequelize.query(sql, { bind: values.map((v) => this.parameter(v)), transaction, type: QueryTypes.BULKUPDATE })
  }

  /**
   * A multi-row `INSERT INTO table (columns) VALUES (…), …` with every value bound as a
   * parameter: the statement's text depends only on the table, the columns and the number
   * of rows, so MySQL reuses it prepared while the row count repeats. `tuple` writes one
   * row's parenthesised VALUES from the placeholders of its values (by default those
   * placeholders in order), for a column the database works out from them. With
   * `returning` (only where `insertReturning()` says so), resolves with those columns of
   * the new rows. On SQLite the rows go SQLITE_ROWS_PER_INSERT at a time: Sequelize hands
   * sqlite3 its parameters by name, and finding each name costs time in proportion to the
   * names in the statement.
   */
  async insertValues<Row extends object = object>(
    table: string,
    columns: readonly string[],
    rows: ReadonlyArray<readonly BindValue[]>,
    options: { transaction?: Transaction, tuple?: (placeholders: string[]) => string, returning?: readonly string[] } = {}
  ): Promise<Row[]> {
    const q = (name: string): string => this.sequelize.getQueryInterface().quoteIdentifier(name)
    const into = `INSERT INTO ${q(table)} (${columns.map(q).join(',')}) VALUES `
    const returning = options.returning === undefined ? '' : ` RETURNING ${options.returning.map(q).join(',')}`
    const tuple = options.tuple ?? ((placeholders: string[]) => `(${placeholders.join(',')})`)
    const perStatement = this.dialect === 'sqlite' ? SQLITE_ROWS_PER_INSERT : rows.length
    const inserted: Row[] = []
    for (let from = 0; from < rows.length; from += perStatement) {
      const chunk = rows.slice(from, from + perStatement)
      let n = 0
      const tuples = chunk.map((row) => tuple(row.map(() => `$${++n}`)))
      inserted.push(...await this.query<Row>(into + tuples.join(',') + returning, chunk.flat(), { transaction: options.transaction, select: returning !== '' }))
    }
    return inserted
  }

  /** Whether an INSERT can answer with its new rows (`RETURNING`): see `DatabaseOptions.insertReturning`. Asked once. */
  insertReturning(): Promise<boolean> {
    if (this.dialect === 'sqlite') return Promise.resolve(false)
    this.returning ??= this.sequelize.databaseVersion().then((version) => {
      const mariadb = /^(\d+)\.(\d+).*mariadb/i.exec(version)
      return mariadb !== null && Number(mariadb[1]) * 100 + Number(mariadb[2]) >= 1005
    }, (err: unknown) => {
      this.returning = undefined
      throw err
    })
    return this.returning
  }

  /**
   * `value` as the driver binds it: mysql2 sends a date as a DATETIME with its milliseconds
   * (in the connection's UTC), but sqlite3 would bind it as a number, so on SQLite a date goes
   * as the text Sequelize stores for a DATE(3) column.
   */
  private parameter(value: BindValue): BindValue {
    if (!(value instanceof Date) || this.dialect === 'mysql') return value
    return this.sqliteDate.stringify(value, { timezone: '+00:00' })
  }

  private get sqliteDate(): { stringify(value: unknown, options?: object): string } {
    const type = this.models.Signal.getAttributes().created_at.type
    if (typeof type !== 'object') throw new TypeError('signals.created_at has no data type instance')
    return type
  }

  /** True when a trivial query answers. */
  async ping(): Promise<boolean> {
    try {
      await this.sequelize.query('SELECT 1')
      return true
    } catch (err) {
      this.noteFailure(err)
      return false
    }
  }

  async close(): Promise<void> {
    await this.sequelize.close()
  }
}
