import { ConnectionRefusedError, QueryTypes } from 'sequelize'
import { Database, isDatabaseUnavailable, type BindValue } from '../../../models/database'
import { migrate } from '../../../models/migrate'
import { scratchDatabase, usingMysql, type ScratchDatabase } from '../../helpers/database'

const sqliteOnly = usingMysql ? describe.skip : describe

describe('Database.insertValues', () => {
  let scratch: ScratchDatabase
  let db: Database

  beforeAll(async () => {
    scratch = await scratchDatabase()
    db = new Database(scratch.url)
    await migrate(db)
  })

  afterAll(async () => {
    await db.close()
    await scratch.drop()
  })

  const columns = ['at', 'action', 'result', 'user_id', 'detail'] as const
  const read = async (action: string) => (await db.models.AuditLog.findAll({ where: { action }, order: [['id', 'ASC']] }))

  test('dates keep their milliseconds in UTC and read back as the same instants, across the years a DATETIME holds', async () => {
    const instants = ['2026-11-21T01:02:03.456Z', '1970-01-01T00:00:00.000Z', '2026-12-31T23:59:59.999Z', '1000-01-01T00:00:00.001Z', '9999-12-31T23:59:59.998Z']
    await db.insertValues('audit_logs', columns, instants.map((iso) => [new Date(iso), 'dates.check', 'ok', null, null]))
    expect((await read('dates.check')).map((r) => r.at.toISOString())).toEqual(instants)
  })

  test('hostile text, NULs and placeholders are data, never SQL; booleans and null are written as given', async () => {
    const texts = ["it's", 'a\\b', 'quote " and \\\' mixed', 'nul\u0000byte', 'ctrl-z \u001a', "x'); DELETE FROM audit_logs; --", '$1 $2 ? :name', '行情 📈', '']
    await db.insertValues('audit_logs', columns, texts.map((t, i) => [new Date(), 'text.check', 'ok', i, t]))
    await db.insertValues('audit_logs', columns, [[new Date(), 'bool.check', 'ok', null, true], [new Date(), 'bool.check', 'ok', null, false]])
    expect((await read('text.check')).map((r) => [r.user_id, r.detail])).toEqual(texts.map((t, i) => [i, t]))
    expect((await read('bool.check')).map((r) => r.detail)).toEqual(['1', '0'])
    expect(await db.models.AuditLog.count({ where: { action: 'dates.check' } })).toBe(5)
  })

  test('many rows, written in order, whatever the number per statement', async () => {
    const rows: BindValue[][] = Array.from({ length: 113 }, (_v, i) => [new Date(), 'many.check', 'ok', i, `row ${i}`])
    await db.insertValues('audit_logs', columns, rows)
    expect((await read('many.check')).map((r) => r.user_id)).toEqual(rows.map((r) => r[3]))
  })

  test('query binds $n values, one value used twice; update answers how many rows it changed', async () => {
    await db.insertValues('audit_logs', columns, [[new Date(), 'bind.check', 'ok', 1, "O'Brien"], [new Date(), 'bind.check', 'ok', 2, 'other']])
    const rows = await db.query<{ user_id: number }>('SELECT user_id FROM audit_logs WHERE action = $1 AND (detail = $2 OR actor = $2)', ['bind.check', "O'Brien"], { select: true })
    expect(rows.map((r) => Number(r.user_id))).toEqual([1])
    expect(await db.update('UPDATE audit_logs SET result = $1 WHERE action = $2', ['denied', 'bind.check'])).toBe(2)
    expect(await db.update('UPDATE audit_logs SET result = $1 WHERE action = $2', ['denied', 'nothing.here'])).toBe(0)
  })
})

sqliteOnly('Database on SQLite', () => {
  let scratch: ScratchDatabase

  beforeEach(async () => {
    scratch = await scratchDatabase()
  })

  afterEach(async () => {
    await scratch.drop()
  })

  async function pragma(db: Database, name: string, transaction?: Parameters<Parameters<Database['transaction']>[0]>[0]): Promise<unknown> {
    const [row] = await db.sequelize.query<Record<string, unknown>>(`PRAGMA ${name}`, { type: QueryTypes.SELECT, transaction })
    return Object.values(row)[0]
  }

  test('every connection, the shared one and a transaction\'s, waits 5 s for a lock; a file database runs in WAL mode', async () => {
    const db = new Database(scratch.url)
    try {
      expect(await pragma(db, 'busy_timeout')).toBe(5000)
      expect(await pragma(db, 'journal_mode')).toBe('wal')
      expect(await db.transaction(async (t) => [await pragma(db, 'busy_timeout', t), await pragma(db, 'journal_mode', t)])).toEqual([5000, 'wal'])
    } finally {
      await db.close()
    }
  })

  test('a write while another connection holds the write lock for longer than Sequelize\'s retries, waits for it instead of failing', async () => {
    const a = new Database(scratch.url)
    const b = new Database(scratch.url)
    try {
      await migrate(a)
      let locked!: () => void
      const holding = new Promise<void>((resolve) => { locked = resolve })
      const transaction = a.transaction(async (t) => {
        await a.sequelize.query("INSERT INTO roles (name, description, created_at, updated_at) VALUES ('held', '', '2026-01-01', '2026-01-01')", { transaction: t })
        locked()
        await new Promise((resolve) => setTimeout(resolve, 1500))
      })
      await holding
      await b.sequelize.query("INSERT INTO roles (name, description, created_at, updated_at) VALUES ('waited', '', '2026-01-01', '2026-01-01')")
      await transaction
      expect((await b.models.Role.findAll({ where: { name: ['held', 'waited'] }, order: [['id', 'ASC']] })).map((r) => r.name)).toEqual(['held', 'waited'])
    } finally {
      await a.close()
      await b.close()
    }
  })

  test('an in-memory database keeps its data across queries and queued transactions', async () => {
    const db = new Database('sqlite::memory:')
    try {
      await migrate(db)
      await Promise.all(Array.from({ length: 5 }, (_v, i) => db.transaction(async (t) => {
        await db.models.Role.create({ name: `r${i}`, description: '' }, { transaction: t })
      })))
      expect(await db.models.Role.count({ where: { name: ['r0', 'r1', 'r2', 'r3', 'r4'] } })).toBe(5)
      expect(await pragma(db, 'journal_mode')).toBe('memory')
    } finally {
      await db.close()
    }
  })
})

const mysqlOnly = usingMysql ? test : test.skip

mysqlOnly('Database on MySQL, every pooled connection, inside and outside transactions, reads committed data (no gap locks)', async () => {
  const scratch = await scratchDatabase()
  const db = new Database(scratch.url)
  try {
    const isolation = async (transaction?: Parameters<Parameters<Database['transaction']>[0]>[0]): Promise<string[]> => {
      const rows = await db.sequelize.query<{ Value: string }>("SHOW VARIABLES WHERE Variable_name IN ('tx_isolation', 'transaction_isolation')", { type: QueryTypes.SELECT, transaction })
      return [...new Set(rows.map((r) => r.Value))]
    }
    const seen = await Promise.all([isolation(), ...Array.from({ length: 4 }, () => db.transaction((t) => isolation(t)))])
    expect(seen).toEqual(Array.from({ length: 5 }, () => ['READ-COMMITTED']))
  } finally {
    await db.close()
    await scratch.drop()
  }
})

describe('Database on an unreachable MySQL server', () => {
  test('after a connection attempt failed, new attempts fail at once for failFastMs, then the driver tries again', async () => {
    const db = new Database('mysql://nobody:nothing@127.0.0.1:1/none', { failFastMs: 300, connectTimeoutMs: 1000 })
    try {
      const first = await db.transaction(async () => undefined).catch((err: unknown) => err)
      expect(first).toBeInstanceOf(ConnectionRefusedError)
      expect(isDatabaseUnavailable(first)).toBe(true)
      const refused = await db.transaction(async () => undefined).catch((err: unknown) => err)
      expect(refused).toMatchObject({ name: 'SequelizeConnectionError', message: expect.stringContaining('a connection attempt just failed') })
      expect(isDatabaseUnavailable(refused)).toBe(true)
      expect(await db.ping()).toBe(false)
      await new Promise((resolve) => setTimeout(resolve, 400))
      expect(await db.transaction(async () => undefined).catch((err: unknown) => err)).toBeInstanceOf(ConnectionRefusedError)
    } finally {
      await db.close()
    }
  })
})
