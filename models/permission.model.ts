import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize'

export type PermissionAction = 'publish' | 'subscribe' | 'read' | 'admin'
export type PermissionEffect = 'allow' | 'deny'

/** A rule held by a role (`role_id`) or granted to one user (`user_id`). */
export class Permission extends Model<InferAttributes<Permission>, InferCreationAttributes<Permission>> {
  declare id: CreationOptional<number>
  declare role_id: number | null
  declare user_id: number | null
  declare action: PermissionAction
  declare topic: string
  declare effect: PermissionEffect
  declare created_at: CreationOptional<Date>
  declare updated_at: CreationOptional<Date>
}

export function definePermission(sequelize: Sequelize): typeof Permission {
  const M = class extends Permission {}
  M.init({
    id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
    role_id: { type: DataTypes.INTEGER, allowNull: true },
    user_id: { type: DataTypes.INTEGER, allowNull: true },
    action: { type: DataTypes.STRING(16), allowNull: false },
    topic: { type: DataTypes.STRING(255), allowNull: false },
    effect: { type: DataTypes.STRING(8), allowNull: false },
    created_at: DataTypes.DATE(3),
    updated_at: DataTypes.DATE(3)
  }, { sequelize, modelName: 'Permission', tableName: 'permissions', createdAt: 'created_at', updatedAt: 'updated_at' })
  return M
}
