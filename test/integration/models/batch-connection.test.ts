import { ConnectionError, UniqueConstraintError } from 'sequelize'
import { BatchConnection } from '../../../models/batch-connection'
import { Database } from '../../../models/database'
import { scratchDatabase, usingMysql, type ScratchDatabase } from '../../helpers/database'

const mysqlOnly = usingMysql ? describe : describe.skip

/** The multi-statement connection of the MySQL ingest path, against a real MariaDB/MySQL. */
mysqlOnly('BatchConnection (MySQL)', () => {
  let scratch: ScratchDatabase
  let admin: Database
  let batch: BatchConnection
  let refusing = false
  let failures = 0

  const rows = async (): Promise<Array<{ id: number, v: string }>> => {
    const [found] = await admin.sequelize.query('SELECT id, v FROM t ORDER BY id')
    return found as Array<{ id: number, v: string }>
  }

  beforeAll(async () => {
    scratch = await scratchDatabase()
    admin = new Database(scratch.url)
    await admin.sequelize.query('CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20) NOT NULL UNIQUE)')
    batch = new BatchConnection(scratch.url, {
      connectTimeoutMs: 3000,
      queryTimeoutMs: 5000,
      beforeConnect: () => {
        if (refusing) throw new ConnectionError(new Error('refused for the test'))
      },
      onUnreachable: () => { failures++ }
    })
  })

  afterAll(async () => {
    await batch.close()
    await admin.close()
    await scratch.drop()
  })

  beforeEach(async () => {
    await admin.sequelize.query('DELETE FROM t')
  })

  test('a transaction runs its two round trips and commits; the second is built from the first\'s results', async () => {
    const results = await batch.transaction("START TRANSACTION; INSERT INTO t (v) VALUES ('a'); SELECT COUNT(*) AS n FROM t", (first) => {
      const [{ n }] = first[2] as Array<{ n: number }>
      return `INSERT INTO t (v) VALUES ('count-${n}'), ('x'); COMMIT`
    })
    expect((results[0] as { insertId: number, affectedRows: number }).affectedRows).toBe(2)
    expect((await rows()).map((r) => r.v)).toEqual(['a', 'count-1', 'x'])
  })

  test('when the second round trip is not built (it throws), the first is rolled back', async () => {
    await expect(batch.transaction("START TRANSACTION; INSERT INTO t (v) VALUES ('gone'); SELECT 1", () => {
      throw new Error('unknown strategy')
    })).rejects.toThrow('unknown strategy')
    expect(await rows()).toEqual([])
  })

  test('a transaction in one round trip commits and answers one result per statement', async () => {
    const results = await batch.transactionInOneTrip("START TRANSACTION; INSERT INTO t (v) VALUES ('one'), ('two'); SET @n = (SELECT COUNT(*) FROM t); INSERT INTO t (v) VALUES (CONCAT('n=', @n)); COMMIT")
    expect(results).toHaveLength(5)
    expect((results[1] as { affectedRows: number }).affectedRows).toBe(2)
    expect((await rows()).map((r) => r.v)).toEqual(['one', 'two', 'n=2'])
  })

  test('when a statement of a one-trip transaction fails, none after it runs and the earlier ones are rolled back', async () => {
    await expect(batch.transactionInOneTrip("START TRANSACTION; INSERT INTO t (v) VALUES ('kept?'); INSERT INTO t (v) VALUES (NULL); INSERT INTO t (v) VALUES ('after'); COMMIT"))
      .rejects.toMatchObject({ name: 'SequelizeDatabaseError', parent: { errno: 1048 } })
    expect(await rows()).toEqual([])
    // the connection is usable afterwards
    await batch.transactionInOneTrip("START TRANSACTION; INSERT INTO t (v) VALUES ('next'); COMMIT")
    expect((await rows()).map((r) => r.v)).toEqual(['next'])
  })

  test('a duplicate key is a UniqueConstraintError, everything is rolled back, and the connection stays usable', async () => {
    await admin.sequelize.query("INSERT INTO t (v) VALUES ('taken')")
    await expect(batch.transaction("START TRANSACTION; INSERT INTO t (v) VALUES ('fresh'); SELECT 1", () => "INSERT INTO t (v) VALUES ('taken'); COMMIT"))
      .rejects.toBeInstanceOf(UniqueConstraintError)
    expect((await rows()).map((r) => r.v)).toEqual(['taken'])
    await batch.transaction("START TRANSACTION; INSERT INTO t (v) VALUES ('after'); SELECT 1", () => 'COMMIT; SELECT 1')
    expect((await rows()).map((r) => r.v)).toEqual(['taken', 'after'])
  })

  /** Starts a slow call on the batch connection and kills that connection from the server side; resolves with the call's outcome. */
  async function killedDuringCall(): Promise<unknown> {
    const call = batch.transaction('START TRANSACTION; SELECT SLEEP(3)', () => 'COMMIT; SELECT 1').then(() => 'committed', (err: unknown) => err)
    let id: number | undefined
    for (let i = 0; i < 50 && id === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      const [found] = await admin.sequelize.query("SELECT id FROM information_schema.PROCESSLIST WHERE info LIKE 'START TRANSACTION; SELECT SLEEP(3)%' OR info = 'SELECT SLEEP(3)'") as [Array<{ id: number }>, unknown]
      id = found[0]?.id
    }
    expect(id).toBeDefined()
    await admin.sequelize.query(`KILL CONNECTION ${Number(id)}`)
    return call
  }

  test('a connection the server kills fails its call as a ConnectionError; the next call reconnects', async () => {
    expect(await killedDuringCall()).toBeInstanceOf(ConnectionError)
    await batch.transaction("START TRANSACTION; INSERT INTO t (v) VALUES ('again'); SELECT 1", () => 'COMMIT; SELECT 1')
    expect((await rows()).map((r) => r.v)).toEqual(['again'])
  })

  test('while connecting is refused the call fails at once, and a refusal is not counted as a failed attempt', async () => {
    expect(await killedDuringCall()).toBeInstanceOf(ConnectionError)
    refusing = true
    const before = failures
    try {
      await expect(batch.transaction('START TRANSACTION; SELECT 1', () => 'COMMIT; SELECT 1')).rejects.toBeInstanceOf(ConnectionError)
      expect(failures).toBe(before)
    } finally {
      refusing = false
    }
    await batch.transaction('START TRANSACTION; SELECT 1', () => 'COMMIT; SELECT 1')
  })

  test('after close, a call fails as a ConnectionError', async () => {
    const closing = new BatchConnection(scratch.url, { connectTimeoutMs: 3000, queryTimeoutMs: 5000, beforeConnect: () => undefined, onUnreachable: () => undefined })
    await closing.transaction('START TRANSACTION; SELECT 1', () => 'COMMIT; SELECT 1')
    await closing.close()
    await expect(closing.transaction('START TRANSACTION; SELECT 1', () => 'COMMIT; SELECT 1')).rejects.toBeInstanceOf(ConnectionError)
  })
})
