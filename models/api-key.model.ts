import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize'

/** active: usable; expiring: usable until `expires_at` (rotated or aged out); revoked: never again. */
export type ApiKeyStatus = 'active' | 'expiring' | 'revoked'

export class ApiKey extends Model<InferAttributes<ApiKey>, InferCreationAttributes<ApiKey>> {
  declare id: CreationOptional<number>
  declare user_id: number
  declare prefix: string
  declare hash: string
  declare label: string | null
  declare status: CreationOptional<ApiKeyStatus>
  declare expires_at: Date | null
  declare last_used_at: CreationOptional<Date | null>
  declare revoked_at: CreationOptional<Date | null>
  declare rotated_from_id: number | null
  declare created_at: CreationOptional<Date>
  declare updated_at: CreationOptional<Date>
}

export function defineApiKey(sequelize: Sequelize): typeof ApiKey {
  const M = class extends ApiKey {}
  M.init({
    id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
    user_id: { type: DataTypes.INTEGER, allowNull: false },
    prefix: { type: DataTypes.STRING(16), allowNull: false, unique: true },
    hash: { type: DataTypes.STRING(64), allowNull: false },
    label: { type: DataTypes.STRING(100), allowNull: true },
    status: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'active' },
    expires_at: { type: DataTypes.DATE(3), allowNull: true },
    last_used_at: { type: DataTypes.DATE(3), allowNull: true },
    revoked_at: { type: DataTypes.DATE(3), allowNull: true },
    rotated_from_id: { type: DataTypes.INTEGER, allowNull: true },
    created_at: DataTypes.DATE(3),
    updated_at: DataTypes.DATE(3)
  }, { sequelize, modelName: 'ApiKey', tableName: 'api_keys', createdAt: 'created_at', updatedAt: 'updated_at' })
  return M
}
