import { Database } from '../../../models/database'
import { createMigrator, migrate } from '../../../models/migrate'
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
    expect(applied).toEqual(['001-initial-schema', '002-default-roles'])
    const tables = (await db.sequelize.getQueryInterface().showAllTables()).map(String).sort()
    expect(tables).toEqual(expect.arrayContaining([
      'api_keys', 'audit_logs', 'client_bindings', 'idempotency_keys', 'permissions', 'reports',
      'roles', 'signals', 'strategies', 'subscriptions', 'users'
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
