import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize'

export class Role extends Model<InferAttributes<Role>, InferCreationAttributes<Role>> {
  declare id: CreationOptional<number>
  declare name: string
  declare description: CreationOptional<string>
  declare created_at: CreationOptional<Date>
  declare updated_at: CreationOptional<Date>
}

export function defineRole(sequelize: Sequelize): typeof Role {
  const M = class extends Role {}
  M.init({
    id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
    name: { type: DataTypes.STRING(32), allowNull: false, unique: true },
    description: { type: DataTypes.STRING(255), allowNull: false, defaultValue: '' },
    created_at: DataTypes.DATE(3),
    updated_at: DataTypes.DATE(3)
  }, { sequelize, modelName: 'Role', tableName: 'roles', createdAt: 'created_at', updatedAt: 'updated_at' })
  return M
}
