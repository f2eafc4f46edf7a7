import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize'

/** The first result of an idempotent ingest: which signals a (user, key) produced, and a hash of the request. */
export class IdempotencyKey extends Model<InferAttributes<IdempotencyKey>, InferCreationAttributes<IdempotencyKey>> {
  declare id: CreationOptional<number>
  declare user_id: number
  declare key: string
  declare request_hash: string
  /** JSON array of `[strategy_id, seq]` of the signals stored, in request order. */
  declare signal_refs: string
  declare batch: boolean
  declare created_at: Date
}

export function defineIdempotencyKey(sequelize: Sequelize): typeof IdempotencyKey {
  const M = class extends IdempotencyKey {}
  M.init({
    id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
    user_id: { type: DataTypes.INTEGER, allowNull: false },
    key: { type: DataTypes.STRING(128), allowNull: false },
    request_hash: { type: DataTypes.STRING(64), allowNull: false },
    signal_refs: { type: DataTypes.TEXT, allowNull: false },
    batch: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    created_at: { type: DataTypes.DATE(3), allowNull: false }
  }, { sequelize, modelName: 'IdempotencyKey', tableName: 'idempotency_keys', timestamps: false })
  return M
}
