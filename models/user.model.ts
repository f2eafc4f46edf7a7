import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize'

export type UserStatus = 'active' | 'disabled'

export class User extends Model<InferAttributes<User>, InferCreationAttributes<User>> {
  declare id: CreationOptional<number>
  declare name: string
  declare contact: string | null
  declare role: string
  declare status: CreationOptional<UserStatus>
  declare created_at: CreationOptional<Date>
  declare updated_at: CreationOptional<Date>
}

export function defineUser(sequelize: Sequelize): typeof User {
  const M = class extends User {}
  M.init({
    id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
    name: { type: DataTypes.STRING(100), allowNull: false, unique: true },
    contact: { type: DataTypes.STRING(255), allowNull: true },
    role: { type: DataTypes.STRING(32), allowNull: false },
    status: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'active' },
    created_at: DataTypes.DATE(3),
    updated_at: DataTypes.DATE(3)
  }, { sequelize, modelName: 'User', tableName: 'users', createdAt: 'created_at', updatedAt: 'updated_at' })
  return M
}
