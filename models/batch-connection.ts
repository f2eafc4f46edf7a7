import { createConnection, type Connection, type QueryError } from 'mysql2'
import { ConnectionError, DatabaseError, UniqueConstraintError } from 'sequelize'

export interface BatchConnectionOptions {
  /** Milliseconds the handshake may take. */
  connectTimeoutMs: number
  /** Milliseconds one round trip may take before the connection is dropped and the call fails. */
  queryTimeoutMs: number
  /** Throws when connecting is pointless right now (the database just refused another connection). */
  beforeConnect: () => void
  /** Told when a connection attempt failed because the database is unreachable. */
  onUnreachable: () => void
}

const DUPLICATE_ENTRY = 1062

/**
 * One MySQL connection that takes several statements per round trip (`multipleStatements`),
 * kept apart from the Sequelize pool so that only the statements built for it, from
 * escaped literals (`Database.literal`), ever run with that capability. The ingest group
 * write uses it to take seqs and insert in two round trips instead of five: each round trip
 * on a busy node also waits its turn in the event loop. Driver errors come out as
 * Sequelize's error classes (`UniqueConstraintError`, `ConnectionError`, `DatabaseError`),
 * so callers handle them like any other database error.
 */
export class BatchConnection {
  private connection?: Promise<Connection>
  private current?: Connection
  private closed = false

  constructor(private readonly url: string, private readonly options: BatchConnectionOptions) {}

  /**
   * Runs `first`, then the statements `next` builds from its results, as one transaction:
   * `first` should begin with `START TRANSACTION` and `next`'s end with `COMMIT`. When
   * anything fails in between (including `next` throwing), the transaction is rolled back
   * and the error rethrown. Resolves with the results of the second round trip, one per
   * statement. Both must hold several statements.
   */
  async transaction(first: string, next: (results: unknown[]) => string): Promise<unknown[]> {
    return this.rollingBack(async (connection) => {
      const results = await this.run(connection, first) as unknown[]
      return await this.run(connection, next(results)) as unknown[]
    })
  }

  /**
   * Runs a whole transaction, `START TRANSACTION` to `COMMIT`, in one round trip. When a
   * statement fails, the server runs none after it; the transaction is rolled back and
   * the error rethrown. Resolves with the results, one per statement.
   */
  async transactionInOneTrip(statements: string): Promise<unknown[]> {
    return this.rollingBack(async (connection) => await this.run(connection, statements) as unknown[])
  }

  private async rollingBack<T>(work: (connection: Connection) => Promise<T>): Promise<T> {
    const connection = await this.connect()
    try {
      return await work(connection)
    } catch (err) {
      if (this.current === connection) await this.run(connection, 'ROLLBACK').catch(() => this.drop(connection))
      throw err
    }
  }

  async close(): Promise<void> {
    this.closed = true
    const pending = this.connection
    this.connection = undefined
    this.current = undefined
    const connection = await pending?.catch(() => undefined)
    if (connection !== undefined) await new Promise<void>((resolve) => connection.end(() => resolve()))
  }

  private connect(): Promise<Connection> {
    if (this.closed) return Promise.reject(new ConnectionError(new Error('the database connection is closed')))
    if (this.connection !== undefined) return this.connection
    try {
      this.options.beforeConnect()
    } catch (err) {
      return Promise.reject(err)
    }
    this.connection = new Promise<Connection>((resolve, reject) => {
      const connection = createConnection({
        uri: this.url.replace(/^mariadb:/, 'mysql:'),
        multipleStatements: true,
        connectTimeout: this.options.connectTimeoutMs,
        supportBigNumbers: true,
        bigNumberStrings: false,
        timezone: 'Z'
      })
      connection.once('connect', () => {
        this.current = connection
        resolve(connection)
      })
      connection.on('error', (err: QueryError) => {
        this.drop(connection)
        reject(new ConnectionError(err))
      })
      // the server closed the link: forget it (mysql2 fails a pending command when the socket closes)
      connection.once('end', () => this.forget(connection))
    }).catch((err: unknown) => {
      this.connection = undefined
      this.options.onUnreachable()
      throw err instanceof ConnectionError ? err : new ConnectionError(err as Error)
    })
    return this.connection
  }

  /**
   * One round trip; with several statements, resolves with an array of their results. A
   * round trip without an answer within `queryTimeoutMs` drops the connection (its timer
   * does not keep the process alive).
   */
  private run(connection: Connection, sql: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.drop(connection)
        reject(new ConnectionError(new Error(`the database did not answer within ${this.options.queryTimeoutMs} ms`)))
      }, this.options.queryTimeoutMs)
      timer.unref()
      connection.query(sql, (err, results) => {
        clearTimeout(timer)
        if (err === null) {
          resolve(results)
          return
        }
        const lost = linkLost(err)
        if (lost) this.drop(connection)
        reject(toSequelizeError(err, lost))
      })
    })
  }

  /** Closes a connection that failed and forgets it; the next call opens a new one. */
  private drop(connection: Connection): void {
    this.forget(connection)
    connection.destroy()
  }

  private forget(connection: Connection): void {
    if (this.current === connection) {
      this.current = undefined
      this.connection = undefined
    }
  }
}

/**
 * True unless the server answered with an SQL error (a duplicate key, a bad statement):
 * a fatal error, a timeout, or a command refused because the link is closed all mean the
 * connection is gone.
 */
function linkLost(err: QueryError): boolean {
  return err.fatal || typeof err.sqlState !== 'string' || err.sqlState === ''
}

function toSequelizeError(err: QueryError, lost: boolean): Error {
  const parent = Object.assign(err, { sql: (err as QueryError & { sql?: string }).sql ?? '', parameters: {} })
  if (lost) return new ConnectionError(err)
  if (err.errno === DUPLICATE_ENTRY) return new UniqueConstraintError({ parent, message: err.message })
  return new DatabaseError(parent)
}
