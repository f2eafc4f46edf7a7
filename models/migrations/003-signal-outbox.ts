import { DataTypes, type QueryInterface } from 'sequelize'

async function tables(qi: QueryInterface): Promise<string[]> {
  return (await qi.showAllTables()).map((t) => typeof t === 'string' ? t : (t as { tableName: string }).tableName)
}

async function columns(qi: QueryInterface, table: string): Promise<string[]> {
  return Object.keys(await qi.describeTable(table))
}

async function hasIndex(qi: QueryInterface, table: string, name: string): Promise<boolean> {
  const indexes = await qi.showIndex(table) as Array<{ name: string }>
  return indexes.some((index) => index.name === name)
}

/**
 * The outbox moves out of `signals`: instead of `published_at` (NULL until the signal was
 * handed to the broker, then written, with an index of its own), a signal waiting for its
 * hand-off has a row in `signal_outbox`, written in the signal's transaction and deleted
 * after the hand-off. Signals still waiting are carried over.
 *
 * MySQL cannot roll DDL back, so a run that stopped halfway leaves some steps done; each
 * step checks whether it is still needed, and running the migration again finishes it.
 * Nodes of an older release write `published_at`: stop them all before the first node of
 * this release starts (docs/operations.md, "Upgrading").
 */
export async function up({ context: qi }: { context: QueryInterface }): Promise<void> {
  if (!(await tables(qi)).includes('signal_outbox')) {
    await qi.createTable('signal_outbox', {
      signal_id: { type: DataTypes.BIGINT, primaryKey: true, allowNull: false, references: { model: 'signals', key: 'id' }, onDelete: 'CASCADE' },
      created_at: { type: DataTypes.DATE(3), allowNull: false }
    })
  }
  if (!(await columns(qi, 'signals')).includes('published_at')) return
  await qi.sequelize.query('INSERT INTO signal_outbox (signal_id, created_at) SELECT id, created_at FROM signals s WHERE published_at IS NULL AND NOT EXISTS (SELECT 1 FROM signal_outbox o WHERE o.signal_id = s.id)')
  if (await hasIndex(qi, 'signals', 'signals_published')) await qi.removeIndex('signals', 'signals_published')
  await qi.sequelize.query('ALTER TABLE signals DROP COLUMN published_at')
}

export async function down({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.addColumn('signals', 'published_at', { type: DataTypes.DATE(3), allowNull: true })
  await qi.sequelize.query('UPDATE signals SET published_at = created_at WHERE id NOT IN (SELECT signal_id FROM signal_outbox)')
  await qi.addIndex('signals', ['published_at'], { name: 'signals_published' })
  await qi.dropTable('signal_outbox')
}
