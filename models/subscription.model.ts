import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize'

export type SubscriptionStatus = 'active' | 'cancelled'

export class Subscription extends Model<InferAttributes<Subscription>, InferCreationAttributes<Subscription>> {
  declare id: CreationOptional<number>
  declare user_id: number
  declare strategy_id: string
  /** JSON array of symbols the subscription is limited to; null = every symbol. */
  declare symbols: string | null
  declare status: CreationOptional<SubscriptionStatus>
  declare created_at: CreationOptional<Date>
  declare updated_at: CreationOptional<Date>

  symbolList(): string[] | null {
    return this.symbols === null ? null : JSON.parse(this.symbols) as string[]
  }
}

export function defineSubscription(sequelize: Sequelize): typeof Subscription {
  const M = class extends Subscription {}
  M.init({
    id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
    user_id: { type: DataTypes.INTEGER, allowNull: false },
    strategy_id: { type: DataTypes.STRING(64), allowNull: false },
    symbols: { type: DataTypes.TEXT, allowNull: true },
    status: { type: DataTypes.STRING(16), allowNull: false, defaultValue: 'active' },
    created_at: DataTypes.DATE(3),
    updated_at: DataTypes.DATE(3)
  }, { sequelize, modelName: 'Subscription', tableName: 'subscriptions', createdAt: 'created_at', updatedAt: 'updated_at' })
  return M
}
