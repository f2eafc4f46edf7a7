import { DataTypes, type QueryInterface } from 'sequelize'

/**
 * The outbox moves out of `signals`: instead of `published_at` (NULL until the signal was
 * handed to the broker, then written, with an index of its own), a signal waiting for its
 * hand-off has a row in `signal_outbox`, written in the signal's transaction and deleted
 * after the hand-off. Signals still waiting are carried over.
 */
export async function up({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.createTable('signal_outbox', {
    signal_id: { type: DataTypes.BIGINT, primaryKey: true, allowNull: false, references: { model: 'signals', key: 'id' }, onDelete: 'CASCADE' },
    created_at: { type: DataTypes.DATE(3), allowNull: false }
  })
  await qi.sequelize.query('INSERT INTO signal_outbox (signal_id, created_at) SELECT id, created_at FROM signals WHERE published_at IS NULL')
  await qi.removeIndex('signals', 'signals_published')
  await qi.sequelize.query('ALTER TABLE signals DROP COLUMN published_at')
}

export async function down({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.addColumn('signals', 'published_at', { type: DataTypes.DATE(3), allowNull: true })
  await qi.sequelize.query('UPDATE signals SET published_at = created_at WHERE id NOT IN (SELECT signal_id FROM signal_outbox)')
  await qi.addIndex('signals', ['published_at'], { name: 'signals_published' })
  await qi.dropTable('signal_outbox')
}
