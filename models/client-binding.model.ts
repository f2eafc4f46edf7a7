import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize'

/** An MQTT client id and the user it belongs to (the first user that connected with it). */
export class ClientBinding extends Model<InferAttributes<ClientBinding>, InferCreationAttributes<ClientBinding>> {
  declare client_id: string
  declare user_id: number
  declare created_at: CreationOptional<Date>
  declare last_seen_at: Date
}

export function defineClientBinding(sequelize: Sequelize): typeof ClientBinding {
  const M = class extends ClientBinding {}
  M.init({
    client_id: { type: DataTypes.STRING(128), primaryKey: true },
    user_id: { type: DataTypes.INTEGER, allowNull: false },
    created_at: DataTypes.DATE(3),
    last_seen_at: { type: DataTypes.DATE(3), allowNull: false }
  }, { sequelize, modelName: 'ClientBinding', tableName: 'client_bindings', createdAt: 'created_at', updatedAt: false })
  return M
}
