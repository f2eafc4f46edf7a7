import { Umzug, SequelizeStorage } from 'umzug'
import type { Database } from './database'
import * as initialSchema from './migrations/001-initial-schema'
import * as defaultRoles from './migrations/002-default-roles'
import * as signalOutbox from './migrations/003-signal-outbox'

/** Migrations in order. Listed here rather than globbed, so the compiled and the test builds see the same set. */
const MIGRATIONS = [
  { name: '001-initial-schema', module: initialSchema },
  { name: '002-default-roles', module: defaultRoles },
  { name: '003-signal-outbox', module: signalOutbox }
]

export function createMigrator(db: Database): Umzug<ReturnType<Database['sequelize']['getQueryInterface']>> {
  const context = db.sequelize.getQueryInterface()
  return new Umzug({
    migrations: MIGRATIONS.map(({ name, module }) => ({
      name,
      up: async () => module.up({ context }),
      down: async () => module.down({ context })
    })),
    context,
    storage: new SequelizeStorage({ sequelize: db.sequelize, tableName: 'schema_migrations' }),
    logger: undefined
  })
}

const LOCK = 'signalhub_migrate'
const LOCK_WAIT_SECONDS = 120

/**
 * Applies every pending migration; returns the names applied. On MySQL the run holds
 * a named lock, so nodes starting together on a fresh database migrate one at a time
 * (the later ones find nothing left to do). SQLite serialises writers by itself.
 */
export async function migrate(db: Database): Promise<string[]> {
  if (db.dialect !== 'mysql') return (await createMigrator(db).up()).map((m) => m.name)
  // a transaction pins one pooled connection, which is what holds the named lock
  return db.sequelize.transaction(async (transaction) => {
    const [rows] = await db.sequelize.query('SELECT GET_LOCK(?, ?) AS got', { replacements: [LOCK, LOCK_WAIT_SECONDS], transaction })
    if (Number((rows as Array<{ got: number | null }>)[0]?.got) !== 1) throw new Error(`migrations: could not take the ${LOCK} lock in ${LOCK_WAIT_SECONDS} s`)
    try {
      return (await createMigrator(db).up()).map((m) => m.name)
    } finally {
      await db.sequelize.query('SELECT RELEASE_LOCK(?)', { replacements: [LOCK], transaction })
    }
  })
}
