import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize'

export type StrategyVisibility = 'public' | 'private'

export class Strategy extends Model<InferAttributes<Strategy>, InferCreationAttributes<Strategy>> {
  declare id: string
  declare name: string
  declare description: CreationOptional<string>
  declare owner_id: number
  declare visibility: CreationOptional<StrategyVisibility>
  /** The last sequence number handed out; the next signal gets `last_seq + 1`. */
  declare last_seq: CreationOptional<number>
  declare created_at: CreationOptional<Date>
  declare updated_at: CreationOptional<Date>
}

export function defineStrategy(sequelize: Sequelize): typeof Strategy {
  const M = class extends Strategy {}
  M.init({
    id: { type: DataTypes.STRING(64), primaryKey: true },
    name: { type: DataTypes.STRING(100), allowNull: false },
    description: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
    owner_id: { type: DataTypes.INTEGER, allowNull: false },
    visibility: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'public' },
    last_seq: {
      type: DataTypes.BIGINT,
      allowNull: false,
      defaultValue: 0,
      get(this: Strategy): number { return Number(this.getDataValue('last_seq')) }
    },
    created_at: DataTypes.DATE(3),
    updated_at: DataTypes.DATE(3)
  }, { sequelize, modelName: 'Strategy', tableName: 'strategies', createdAt: 'created_at', updatedAt: 'updated_at' })
  return M
}
