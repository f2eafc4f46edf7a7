import { DataTypes, type QueryInterface } from 'sequelize'

/**
 * The initial schema. It is written once for both dialects: only types that mean
 * the same on SQLite and MySQL 8 / MariaDB are used (JSON is stored as TEXT, so
 * MariaDB's JSON-as-LONGTEXT and SQLite behave alike), and every date keeps
 * milliseconds (DATE(3)).
 */

const now = { type: DataTypes.DATE(3), allowNull: false }
const id = { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true, allowNull: false }
const bigId = { type: DataTypes.BIGINT, autoIncrement: true, primaryKey: true, allowNull: false }

export async function up({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.createTable('roles', {
    id,
    name: { type: DataTypes.STRING(32), allowNull: false, unique: true },
    description: { type: DataTypes.STRING(255), allowNull: false, defaultValue: '' },
    created_at: now,
    updated_at: now
  })

  await qi.createTable('users', {
    id,
    name: { type: DataTypes.STRING(100), allowNull: false, unique: true },
    contact: { type: DataTypes.STRING(255), allowNull: true },
    role: { type: DataTypes.STRING(32), allowNull: false, references: { model: 'roles', key: 'name' }, onUpdate: 'CASCADE', onDelete: 'RESTRICT' },
    status: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'active' },
    created_at: now,
    updated_at: now
  })

  await qi.createTable('api_keys', {
    id,
    user_id: { type: DataTypes.INTEGER, allowNull: false, references: { model: 'users', key: 'id' }, onDelete: 'CASCADE' },
    prefix: { type: DataTypes.STRING(16), allowNull: false, unique: true },
    hash: { type: DataTypes.STRING(64), allowNull: false },
    label: { type: DataTypes.STRING(100), allowNull: true },
    status: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'active' },
    expires_at: { type: DataTypes.DATE(3), allowNull: true },
    last_used_at: { type: DataTypes.DATE(3), allowNull: true },
    revoked_at: { type: DataTypes.DATE(3), allowNull: true },
    rotated_from_id: { type: DataTypes.INTEGER, allowNull: true },
    created_at: now,
    updated_at: now
  })
  await qi.addIndex('api_keys', ['user_id'], { name: 'api_keys_user' })
  await qi.addIndex('api_keys', ['status', 'created_at'], { name: 'api_keys_status_created' })

  await qi.createTable('permissions', {
    id,
    role_id: { type: DataTypes.INTEGER, allowNull: true, references: { model: 'roles', key: 'id' }, onDelete: 'CASCADE' },
    user_id: { type: DataTypes.INTEGER, allowNull: true, references: { model: 'users', key: 'id' }, onDelete: 'CASCADE' },
    action: { type: DataTypes.STRING(16), allowNull: false },
    topic: { type: DataTypes.STRING(255), allowNull: false },
    effect: { type: DataTypes.STRING(8), allowNull: false },
    created_at: now,
    updated_at: now
  })
  await qi.addIndex('permissions', ['role_id'], { name: 'permissions_role' })
  await qi.addIndex('permissions', ['user_id'], { name: 'permissions_user' })

  await qi.createTable('strategies', {
    id: { type: DataTypes.STRING(64), primaryKey: true, allowNull: false },
    name: { type: DataTypes.STRING(100), allowNull: false },
    description: { type: DataTypes.TEXT, allowNull: false },
    owner_id: { type: DataTypes.INTEGER, allowNull: false, references: { model: 'users', key: 'id' }, onDelete: 'RESTRICT' },
    visibility: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'public' },
    last_seq: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
    created_at: now,
    updated_at: now
  })
  await qi.addIndex('strategies', ['owner_id'], { name: 'strategies_owner' })

  await qi.createTable('signals', {
    id: bigId,
    strategy_id: { type: DataTypes.STRING(64), allowNull: false, references: { model: 'strategies', key: 'id' }, onDelete: 'CASCADE' },
    seq: { type: DataTypes.BIGINT, allowNull: false },
    symbol: { type: DataTypes.STRING(32), allowNull: false },
    type: { type: DataTypes.STRING(32), allowNull: false },
    execute_date: { type: DataTypes.DATE(3), allowNull: false },
    description: { type: DataTypes.TEXT, allowNull: false },
    payload: { type: DataTypes.TEXT, allowNull: true },
    publisher_id: { type: DataTypes.INTEGER, allowNull: true, references: { model: 'users', key: 'id' }, onDelete: 'SET NULL' },
    idempotency_key: { type: DataTypes.STRING(128), allowNull: true },
    published_at: { type: DataTypes.DATE(3), allowNull: true },
    created_at: now
  })
  await qi.addIndex('signals', ['strategy_id', 'seq'], { name: 'signals_strategy_seq', unique: true })
  await qi.addIndex('signals', ['strategy_id', 'symbol', 'seq'], { name: 'signals_strategy_symbol_seq' })
  await qi.addIndex('signals', ['strategy_id', 'created_at'], { name: 'signals_strategy_created' })
  await qi.addIndex('signals', ['created_at'], { name: 'signals_created' })
  await qi.addIndex('signals', ['published_at'], { name: 'signals_published' })

  await qi.createTable('idempotency_keys', {
    id,
    user_id: { type: DataTypes.INTEGER, allowNull: false, references: { model: 'users', key: 'id' }, onDelete: 'CASCADE' },
    key: { type: DataTypes.STRING(128), allowNull: false },
    request_hash: { type: DataTypes.STRING(64), allowNull: false },
    signal_refs: { type: DataTypes.TEXT, allowNull: false },
    batch: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    created_at: now
  })
  await qi.addIndex('idempotency_keys', ['user_id', 'key'], { name: 'idempotency_user_key', unique: true })
  await qi.addIndex('idempotency_keys', ['created_at'], { name: 'idempotency_created' })

  await qi.createTable('subscriptions', {
    id,
    user_id: { type: DataTypes.INTEGER, allowNull: false, references: { model: 'users', key: 'id' }, onDelete: 'CASCADE' },
    strategy_id: { type: DataTypes.STRING(64), allowNull: false, references: { model: 'strategies', key: 'id' }, onDelete: 'CASCADE' },
    symbols: { type: DataTypes.TEXT, allowNull: true },
    status: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'active' },
    created_at: now,
    updated_at: now
  })
  await qi.addIndex('subscriptions', ['user_id', 'strategy_id'], { name: 'subscriptions_user_strategy', unique: true })
  await qi.addIndex('subscriptions', ['strategy_id'], { name: 'subscriptions_strategy' })

  await qi.createTable('client_bindings', {
    client_id: { type: DataTypes.STRING(128), primaryKey: true, allowNull: false },
    user_id: { type: DataTypes.INTEGER, allowNull: false, references: { model: 'users', key: 'id' }, onDelete: 'CASCADE' },
    created_at: now,
    last_seen_at: now
  })
  await qi.addIndex('client_bindings', ['user_id'], { name: 'client_bindings_user' })

  await qi.createTable('audit_logs', {
    id: bigId,
    at: now,
    user_id: { type: DataTypes.INTEGER, allowNull: true },
    actor: { type: DataTypes.STRING(100), allowNull: true },
    action: { type: DataTypes.STRING(64), allowNull: false },
    resource: { type: DataTypes.STRING(255), allowNull: true },
    result: { type: DataTypes.STRING(16), allowNull: false },
    ip: { type: DataTypes.STRING(64), allowNull: true },
    client_id: { type: DataTypes.STRING(128), allowNull: true },
    request_id: { type: DataTypes.STRING(64), allowNull: true },
    detail: { type: DataTypes.TEXT, allowNull: true }
  })
  await qi.addIndex('audit_logs', ['at'], { name: 'audit_logs_at' })
  await qi.addIndex('audit_logs', ['user_id', 'at'], { name: 'audit_logs_user_at' })
  await qi.addIndex('audit_logs', ['action', 'at'], { name: 'audit_logs_action_at' })

  await qi.createTable('reports', {
    id,
    user_id: { type: DataTypes.INTEGER, allowNull: false, references: { model: 'users', key: 'id' }, onDelete: 'CASCADE' },
    period: { type: DataTypes.STRING(16), allowNull: false },
    period_start: { type: DataTypes.DATE(3), allowNull: false },
    period_end: { type: DataTypes.DATE(3), allowNull: false },
    content: { type: DataTypes.TEXT, allowNull: false },
    created_at: now
  })
  await qi.addIndex('reports', ['user_id', 'period', 'period_start'], { name: 'reports_user_period', unique: true })
}

export async function down({ context: qi }: { context: QueryInterface }): Promise<void> {
  for (const table of ['reports', 'audit_logs', 'client_bindings', 'subscriptions', 'idempotency_keys', 'signals', 'strategies', 'permissions', 'api_keys', 'users', 'roles']) {
    await qi.dropTable(table)
  }
}
