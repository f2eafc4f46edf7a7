import { Umzug, SequelizeStorage } from 'umzug'
import type { Database } from './database'
import * as initialSchema from './migrations/001-initial-schema'
import * as defaultRoles from './migrations/002-default-roles'

/** Migrations in order. Listed here rather than globbed, so the compiled and the test builds see the same set. */
const MIGRATIONS = [
  { name: '001-initial-schema', module: initialSchema },
  { name: '002-default-roles', module: defaultRoles }
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

/** Applies every pending migration; returns the names applied. */
export async function migrate(db: Database): Promise<string[]> {
  const applied = await createMigrator(db).up()
  return applied.map((m) => m.name)
}
