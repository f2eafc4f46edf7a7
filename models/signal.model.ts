import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize'

/** A stored signal. `payload` is JSON text. Until it has been handed to the broker it also has a row in `signal_outbox`. */
export class Signal extends Model<InferAttributes<Signal>, InferCreationAttributes<Signal>> {
  declare id: CreationOptional<number>
  declare strategy_id: string
  declare seq: number
  declare symbol: string
  declare type: string
  declare execute_date: Date
  declare description: string
  declare payload: string | null
  declare publisher_id: number | null
  declare idempotency_key: string | null
  declare created_at: Date
}

const asNumber = (field: 'id' | 'seq') => function (this: Signal): number { return Number(this.getDataValue(field)) }

export function defineSignal(sequelize: Sequelize): typeof Signal {
  const M = class extends Signal {}
  M.init({
    id: { type: DataTypes.BIGINT, autoIncrement: true, primaryKey: true, get: asNumber('id') },
    strategy_id: { type: DataTypes.STRING(64), allowNull: false },
    seq: { type: DataTypes.BIGINT, allowNull: false, get: asNumber('seq') },
    symbol: { type: DataTypes.STRING(32), allowNull: false },
    type: { type: DataTypes.STRING(32), allowNull: false },
    execute_date: { type: DataTypes.DATE(3), allowNull: false },
    description: { type: DataTypes.TEXT, allowNull: false },
    payload: { type: DataTypes.TEXT, allowNull: true },
    publisher_id: { type: DataTypes.INTEGER, allowNull: true },
    idempotency_key: { type: DataTypes.STRING(128), allowNull: true },
    created_at: { type: DataTypes.DATE(3), allowNull: false }
  }, { sequelize, modelName: 'Signal', tableName: 'signals', timestamps: false })
  return M
}
