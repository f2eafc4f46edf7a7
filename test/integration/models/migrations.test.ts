import { DataTypes } from 'sequelize'
import { Database } from '../../../models/database'
import { createMigrator, migrate } from '../../../models/migrate'
import { up as signalOutboxUp } from '../../../models/migrations/003-signal-outbox'
import { scratchDatabase, type ScratchDatabase } from '../../helpers/database'

describe('migrations', () => {
  let scratch: ScratchDatabase
  let db: Database

  beforeEach(async () => {
    scratch = await scratchDatabase()
    db = new Database(scratch.url)
  })

  afterEach(async () => {
    await db.close()
    await scratch.drop()
  })

  test('migrate on an empty database builds every table and seeds the three roles', async () => {
    const applied = await migrate(db)
    expect(applied).toEqual(['001-initial-schema', '002-default-roles', '003-signal-outbox'])
    const tables = (await db.sequelize.getQueryInterface().showAllTables()).map(String).sort()
    expect(tables).toEqual(expect.arrayContaining([
      'api_keys', 'audit_logs', 'client_bindings', 'idempotency_keys', 'permissions', 'reports',
      'roles', 'signal_outbox', 'signals', 'strategies', 'subscriptions', 'users'
    ]))
    const roles = (await db.models.Role.findAll({ order: [['name', 'ASC']] })).map((r) => r.name)
    expect(roles).toEqual(['admin', 'publisher', 'subscriber'])
    expect(await db.models.Permission.count()).toBeGreaterThan(8)
  })

  test('migrate a second time applies nothing and keeps the data', async () => {
    await migrate(db)
    await db.models.User.create({ name: 'alice', contact: null, role: 'publisher' })
    expect(await migrate(db)).toEqual([])
    expect(await db.models.User.count()).toBe(1)
  })

  test('down then up rebuilds the schema', async () => {
    await migrate(db)
    await createMigrator(db).down({ to: 0 })
    expect(await db.sequelize.getQueryInterface().showAllTables()).not.toContain('signals')
    await migrate(db)
    expect(await db.models.Role.count()).toBe(3)
  })

  describe('003-signal-outbox', () => {
    const insertSignal = (seq: number, publishedAt: string | null): Promise<unknown> => db.sequelize.query(
      "INSERT INTO signals (strategy_id, seq, symbol, type, execute_date, description, payload, publisher_id, idempotency_key, published_at, created_at) VALUES ('s1', ?, 'AAPL', 'buy', '2026-11-21 01:30:00.000', '', NULL, NULL, NULL, ?, '2026-11-21 01:30:01.000')",
      { replacements: [seq, publishedAt] })
    const ids = async (sql: string): Promise<number[]> => ((await db.sequelize.query(sql))[0] as Array<{ id: number | string }>).map((r) => Number(r.id)).sort((a, b) => a - b)

    beforeEach(async () => {
      await createMigrator(db).up({ to: '002-default-roles' })
      const user = await db.models.User.create({ name: 'pub', contact: null, role: 'publisher' })
      await db.sequelize.query("INSERT INTO strategies (id, name, description, owner_id, visibility, last_seq, created_at, updated_at) VALUES ('s1', 'S1', '', ?, 'public', 3, '2026-11-21 00:00:00.000', '2026-11-21 00:00:00.000')", { replacements: [user.id] })
      await insertSignal(1, '2026-11-21 01:30:02.000')
      await insertSignal(2, null)
      await insertSignal(3, null)
    })

    test('carries the signals still waiting for their hand-off into signal_outbox and drops published_at', async () => {
      expect(await migrate(db)).toEqual(['003-signal-outbox'])
      expect(await ids('SELECT signal_id AS id FROM signal_outbox')).toEqual(await ids('SELECT id FROM signals WHERE seq IN (2, 3)'))
      expect(Object.keys(await db.sequelize.getQueryInterface().describeTable('signals'))).not.toContain('published_at')
      const outboxRow = await db.models.SignalOutbox.findOne()
      expect(outboxRow?.created_at.toISOString()).toBe('2026-11-21T01:30:01.000Z')
    })

    test('run again after stopping halfway (the outbox filled, published_at still there), it finishes without copying twice', async () => {
      const qi = db.sequelize.getQueryInterface()
      await qi.createTable('signal_outbox', {
        signal_id: { type: DataTypes.BIGINT, primaryKey: true, allowNull: false, references: { model: 'signals', key: 'id' }, onDelete: 'CASCADE' },
        created_at: { type: DataTypes.DATE(3), allowNull: false }
      })
      await db.sequelize.query("INSERT INTO signal_outbox (signal_id, created_at) SELECT id, created_at FROM signals WHERE seq = 2")
      await signalOutboxUp({ context: qi })
      expect(await ids('SELECT signal_id AS id FROM signal_outbox')).toEqual(await ids('SELECT id FROM signals WHERE seq IN (2, 3)'))
      expect(Object.keys(await qi.describeTable('signals'))).not.toContain('published_at')
      await signalOutboxUp({ context: qi })
      expect(await ids('SELECT signal_id AS id FROM signal_outbox')).toEqual(await ids('SELECT id FROM signals WHERE seq IN (2, 3)'))
    })

    test('a signal deleted takes its outbox row with it', async () => {
      await migrate(db)
      await db.sequelize.query("DELETE FROM signals WHERE strategy_id = 's1' AND seq = 2")
      expect(await ids('SELECT signal_id AS id FROM signal_outbox')).toEqual(await ids('SELECT id FROM signals WHERE seq = 3'))
    })

    test('down puts published_at back: NULL for the signals still waiting, created_at for the rest', async () => {
      await migrate(db)
      await createMigrator(db).down({ to: '003-signal-outbox' })
      expect(await ids('SELECT id FROM signals WHERE published_at IS NULL')).toEqual(await ids('SELECT id FROM signals WHERE seq IN (2, 3)'))
      expect(await ids('SELECT id FROM signals WHERE published_at IS NOT NULL')).toEqual(await ids('SELECT id FROM signals WHERE seq = 1'))
      expect(await db.sequelize.getQueryInterface().showAllTables()).not.toContain('signal_outbox')
    })
  })

  test('signals table refuses a repeated (strategy_id, seq)', async () => {
    await migrate(db)
    const user = await db.models.User.create({ name: 'pub', contact: null, role: 'publisher' })
    await db.models.Strategy.create({ id: 's1', name: 'S1', owner_id: user.id })
    const row = { strategy_id: 's1', seq: 1, symbol: 'AAPL', type: 'buy', execute_date: new Date(), description: '', payload: null, publisher_id: user.id, idempotency_key: null, created_at: new Date() }
    await db.models.Signal.create(row)
    await expect(db.models.Signal.create(row)).rejects.toThrow()
  })

  test('a user with an unknown role is refused by the foreign key', async () => {
    await migrate(db)
    await expect(db.models.User.create({ name: 'x', contact: null, role: 'nope' })).rejects.toThrow()
  })

  test('dates keep milliseconds and come back as the same instant', async () => {
    await migrate(db)
    const user = await db.models.User.create({ name: 'pub', contact: null, role: 'publisher' })
    await db.models.Strategy.create({ id: 's1', name: 'S1', owner_id: user.id })
    const at = new Date('2026-03-04T05:06:07.089Z')
    await db.models.Signal.create({ strategy_id: 's1', seq: 1, symbol: 'AAPL', type: 'buy', execute_date: at, description: '', payload: null, publisher_id: user.id, idempotency_key: null, created_at: at })
    const back = await db.models.Signal.findOne({ where: { strategy_id: 's1' } })
    expect(back?.execute_date.toISOString()).toBe(at.toISOString())
    expect(back?.seq).toBe(1)
  })
})
