import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize'

/** A report produced for one subscriber and one period; `content` is JSON text. */
export class Report extends Model<InferAttributes<Report>, InferCreationAttributes<Report>> {
  declare id: CreationOptional<number>
  declare user_id: number
  declare period: string
  declare period_start: Date
  declare period_end: Date
  declare content: string
  declare created_at: CreationOptional<Date>
}

export function defineReport(sequelize: Sequelize): typeof Report {
  const M = class extends Report {}
  M.init({
    id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
    user_id: { type: DataTypes.INTEGER, allowNull: false },
    period: { type: DataTypes.STRING(16), allowNull: false },
    period_start: { type: DataTypes.DATE(3), allowNull: false },
    period_end: { type: DataTypes.DATE(3), allowNull: false },
    content: { type: DataTypes.TEXT, allowNull: false },
    created_at: DataTypes.DATE(3)
  }, { sequelize, modelName: 'Report', tableName: 'reports', createdAt: 'created_at', updatedAt: false })
  return M
}
