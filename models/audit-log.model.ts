import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize'

export type AuditResult = 'ok' | 'denied' | 'failed'

/** One access or operation: who, what, on which resource, with what result, from where. */
export class AuditLog extends Model<InferAttributes<AuditLog>, InferCreationAttributes<AuditLog>> {
  declare id: CreationOptional<number>
  declare at: Date
  declare user_id: number | null
  declare actor: string | null
  declare action: string
  declare resource: string | null
  declare result: AuditResult
  declare ip: string | null
  declare client_id: string | null
  declare request_id: string | null
  /** JSON object with a summary of the operation; never a secret. */
  declare detail: string | null
}

export function defineAuditLog(sequelize: Sequelize): typeof AuditLog {
  const M = class extends AuditLog {}
  M.init({
    id: { type: DataTypes.BIGINT, autoIncrement: true, primaryKey: true, get(this: AuditLog): number { return Number(this.getDataValue('id')) } },
    at: { type: DataTypes.DATE(3), allowNull: false },
    user_id: { type: DataTypes.INTEGER, allowNull: true },
    actor: { type: DataTypes.STRING(100), allowNull: true },
    action: { type: DataTypes.STRING(64), allowNull: false },
    resource: { type: DataTypes.STRING(255), allowNull: true },
    result: { type: DataTypes.STRING(16), allowNull: false },
    ip: { type: DataTypes.STRING(64), allowNull: true },
    client_id: { type: DataTypes.STRING(128), allowNull: true },
    request_id: { type: DataTypes.STRING(64), allowNull: true },
    detail: { type: DataTypes.TEXT, allowNull: true }
  }, { sequelize, modelName: 'AuditLog', tableName: 'audit_logs', timestamps: false })
  return M
}
