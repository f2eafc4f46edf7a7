import { BaseError, ConnectionError, DatabaseError, QueryTypes, Sequelize, Transaction, type Options } from 'sequelize'
import { escape as mysqlEscape } from 'mysql2'
import { defineApiKey } from './api-key.model'
import { BatchConnection } from './batch-connection'
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

/** A value `Database.insertRows` writes. */
export type SqlValue = string | number | boolean | null | Date

/**
 * An SQL expression written into a statement as it is, where `insertStatement` takes values
 * (a seq the server works out). Only ever built from literals and names of this code.
 */
export class SqlExpression {
  constructor(readonly sql: string) {}
}

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
}

/** Longest round trip on the batch connection: a stalled link fails the write instead of holding it forever. */
const BATCH_QUERY_TIMEOUT_MS = 10_000

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

interface SqliteHandle {
  configure(option: 'busyTimeout', value: number): void
  run(sql: string): void
  open: boolean
  filename: string
}

interface SqliteConnectionManager {
  getConnection(options?: { uuid?: string }): Promise<SqliteHandle>
  releaseConnection(connection: SqliteHandle, force?: boolean): void
}

/**
 * One database connection with its models. Each `Database` defines its own model
 * classes, so several (two nodes in one test, a restart) can live in one process.
 */
export class Database {
  readonly sequelize: Sequelize
  readonly models: Models
  readonly dialect: Dialect
  /** MySQL only: the connection for multi-statement round trips on the ingest path (see BatchConnection). */
  readonly batch?: BatchConnection
  private sqliteQueue: Promise<unknown> = Promise.resolve()
  private unreachableUntil = 0
  private autoIncrement?: Promise<number | null>

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
        dialectOptions: { connectTimeout: options.connectTimeoutMs ?? 3000, supportBigNumbers: true, bigNumberStrings: false }
      })
      this.dialect = 'mysql'
      const failFastMs = options.failFastMs ?? 1000
      this.failFastWhileUnreachable(failFastMs)
      this.batch = new BatchConnection(url, {
        connectTimeoutMs: options.connectTimeoutMs ?? 3000,
        queryTimeoutMs: BATCH_QUERY_TIMEOUT_MS,
        beforeConnect: () => {
          if (Date.now() < this.unreachableUntil) throw new ConnectionError(new Error('database unreachable (a connection attempt just failed)'))
        },
        onUnreachable: () => { this.unreachableUntil = Date.now() + failFastMs }
      })
    }
    this.models = defineModels(this.sequelize)
  }

  /**
   * After a connection attempt fails (refused, or no handshake within the connect timeout),
   * further attempts fail at once for `windowMs`. A request that needs several connections
   * in a row then waits for one connect timeout, not one per connection, which keeps every
   * request during an outage within the pool's acquire timeout.
   */
  private failFastWhileUnreachable(windowMs: number): void {
    const manager = this.sequelize.connectionManager as unknown as { connect: (config: unknown) => Promise<unknown> }
    const connect = manager.connect.bind(manager)
    manager.connect = async (config: unknown) => {
      if (Date.now() < this.unreachableUntil) throw new ConnectionError(new Error('database unreachable (a connection attempt just failed)'))
      try {
        return await connect(config)
      } catch (err) {
        if (isDatabaseUnavailable(err)) this.unreachableUntil = Date.now() + windowMs
        throw err
      }
    }
  }

  /**
   * SQLite connections wait for a lock instead of failing at once, and file databases
   * write through a WAL journal, so readers never block the writer. Sequelize opens a new
   * connection for every transaction and closes it afterwards; since this class runs one
   * SQLite transaction at a time, they all share one connection that stays open.
   */
  private configureSqliteConnections(): void {
    const manager = this.sequelize.connectionManager as unknown as SqliteConnectionManager
    const getConnection = manager.getConnection.bind(manager)
    const release = manager.releaseConnection.bind(manager)
    const configured = new WeakSet<SqliteHandle>()
    let transactional: SqliteHandle | undefined
    manager.getConnection = async (options) => {
      const forTransaction = options?.uuid !== undefined && options.uuid !== 'default'
      if (forTransaction && transactional?.open === true) return transactional
      const connection = await getConnection(forTransaction ? { ...options, uuid: 'transaction' } : options)
      if (!configured.has(connection)) {
        connection.configure('busyTimeout', 5000)
        if (connection.filename !== ':memory:') connection.run('PRAGMA journal_mode=WAL')
        configured.add(connection)
      }
      if (forTransaction) transactional = connection
      return connection
    }
    manager.releaseConnection = (connection, force) => {
      if (connection === transactional && force !== true) return
      release(connection, force)
    }
  }

  /**
   * Runs `work` in a transaction. MySQL runs them concurrently (row locks); SQLite
   * has one writer at a time, so its transactions are queued in-process.
   */
  async transaction<T>(work: (t: Transaction) => Promise<T>): Promise<T> {
    if (this.dialect === 'mysql') {
      return this.sequelize.transaction(work)
    }
    const run = this.sqliteQueue.then(() => this.sequelize.transaction(work))
    this.sqliteQueue = run.catch(() => undefined)
    return run
  }

  /**
   * How far apart the ids of one multi-row INSERT are, when they are certainly consecutive,
   * or null when they must be read back. SQLite writes one statement at a time, so they are
   * (step 1); MySQL's are for a statement whose row count is known when
   * `innodb_autoinc_lock_mode` is 0 or 1 (MariaDB's default), spaced by
   * `auto_increment_increment`, but not in the interleaved mode 2 (MySQL 8's default).
   * Asked once; a failed query is asked again next time.
   */
  insertIdStep(): Promise<number | null> {
    if (this.dialect === 'sqlite') return Promise.resolve(1)
    this.autoIncrement ??= this.sequelize.query('SELECT @@innodb_autoinc_lock_mode AS mode, @@auto_increment_increment AS step', { type: QueryTypes.SELECT })
      .then((rows) => {
        const { mode, step } = rows[0] as { mode: number | string | null, step: number | string }
        return mode !== null && Number(mode) <= 1 ? Number(step) : null
      })
      .catch((err: unknown) => {
        this.autoIncrement = undefined
        throw err
      })
    return this.autoIncrement
  }

  /**
   * The ids of the `count` rows of one multi-row INSERT, from what `queryInterface.bulkInsert`
   * returned (MySQL: the first id; SQLite: the last) and `insertIdStep()`; null when unknown.
   */
  insertedIds(result: unknown, count: number, step: number | null): number[] | null {
    if (step === null || typeof result !== 'number' || !Number.isSafeInteger(result) || count < 1) return null
    const first = this.dialect === 'sqlite' ? result - (count - 1) * step : result
    return Array.from({ length: count }, (_v, i) => first + i * step)
  }

  /**
   * One multi-row INSERT of plain values (string, number, boolean, null, Date) with every
   * value escaped as a literal, on the hot paths (signals, audit): `queryInterface.bulkInsert`
   * would format each value through its column's data type, which costs more than the
   * statement itself. Dates are written in UTC with milliseconds, in the form Sequelize
   * writes them for the dialect, so models read them back unchanged. Returns what
   * `bulkInsert` returns (MySQL: the first new id; SQLite: the last).
   */
  async insertRows(table: string, columns: readonly string[], rows: ReadonlyArray<readonly SqlValue[]>, transaction?: Transaction): Promise<unknown> {
    const [result] = await this.sequelize.query(this.insertStatement(table, columns, rows), { type: QueryTypes.INSERT, transaction })
    return result
  }

  /**
   * insertRows for a statement that runs over and over with the same number of rows (the
   * audit trail's full batches): on MySQL a server-side prepared statement, its values sent
   * as parameters, so the server does not parse a statement of thousands of literals each
   * time (a third less of its CPU per row) and this side escapes nothing. The driver keeps
   * the statement prepared per pooled connection, one per distinct row count: callers use
   * it for one count only. Elsewhere it is insertRows.
   */
  async insertRowsPrepared(table: string, columns: readonly string[], rows: ReadonlyArray<readonly SqlValue[]>): Promise<unknown> {
    if (this.dialect !== 'mysql') {
      const [result] = await this.sequelize.query(this.insertStatement(table, columns, rows), { type: QueryTypes.INSERT })
      return result
    }
    const bind: Array<string | number | null> = []
    const values = rows.map((row) => `(${row.map((v) => `$${bind.push(this.parameter(v))}`).join(',')})`).join(',')
    const [result] = await this.sequelize.query(`${this.insertInto(table, columns)} VALUES ${values}`, { type: QueryTypes.INSERT, bind })
    return result
  }

  /** `value` as a MySQL statement parameter: a date in the text form `literal` gives it, a boolean as 1 or 0. */
  private parameter(value: SqlValue): string | number | null {
    if (value instanceof Date) return this.literal(value).slice(1, -1)
    if (typeof value === 'boolean') return value ? 1 : 0
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`not a finite number: ${value}`)
    return value
  }

  /** The multi-row INSERT statement insertRows runs; an `SqlExpression` is written as it is. */
  insertStatement(table: string, columns: readonly string[], rows: ReadonlyArray<ReadonlyArray<SqlValue | SqlExpression>>): string {
    const values = rows.map((row) => `(${row.map((v) => v instanceof SqlExpression ? v.sql : this.literal(v)).join(',')})`).join(',')
    return `${this.insertInto(table, columns)} VALUES ${values}`
  }

  private insertInto(table: string, columns: readonly string[]): string {
    const q = (name: string): string => this.sequelize.getQueryInterface().quoteIdentifier(name)
    return `INSERT INTO ${q(table)} (${columns.map(q).join(',')})`
  }

  /**
   * `value` as an SQL literal of this dialect, for statements built on the hot paths (see
   * insertRows): strings escaped by the driver's own rules (mysql2's `escape`; quotes
   * doubled for SQLite, as Sequelize does), dates as insertRows describes.
   */
  literal(value: SqlValue): string {
    if (value === null) return 'NULL'
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new TypeError(`not a finite number: ${value}`)
      return String(value)
    }
    if (typeof value === 'boolean') return value ? '1' : '0'
    if (value instanceof Date) {
      const iso = value.toISOString()
      // years 0000–9999 only (the ISO form of others is longer); those fall back to Sequelize's own formatting
      if (iso.length !== 24) return this.sequelize.escape(value)
      const text = `${iso.slice(0, 10)} ${iso.slice(11, 23)}`
      return `'${this.dialect === 'sqlite' ? `${text} +00:00` : text}'`
    }
    if (this.dialect === 'mysql') return mysqlEscape(value)
    // an SQLite statement ends at a NUL, so a NUL inside a text is spliced in with char(0)
    if (value.includes('\u0000')) return `(${value.split('\u0000').map((part) => this.literal(part)).join(' || char(0) || ')})`
    return `'${value.replace(/'/g, "''")}'`
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
    await this.batch?.close()
    await this.sequelize.close()
  }
}
