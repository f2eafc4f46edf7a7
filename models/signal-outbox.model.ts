import { DataTypes, Model, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize'

/**
 * A signal committed but not yet handed to the broker. The row is written in the same
 * transaction as its signal and deleted once the hand-off succeeded; the outbox sweep
 * publishes what is left. Kept apart from `signals` so that marking a signal published
 * deletes a small row here instead of rewriting the signal and one of its indexes.
 */
export class SignalOutbox extends Model<InferAttributes<SignalOutbox>, InferCreationAttributes<SignalOutbox>> {
  declare signal_id: number
  /** The signal's `created_at`: the sweep takes only rows older than its grace period. */
  declare created_at: Date
}

export function defineSignalOutbox(sequelize: Sequelize): typeof SignalOutbox {
  const M = class extends SignalOutbox {}
  M.init({
    signal_id: { type: DataTypes.BIGINT, primaryKey: true, get(this: SignalOutbox): number { return Number(this.getDataValue('signal_id')) } },
    created_at: { type: DataTypes.DATE(3), allowNull: false }
  }, { sequelize, modelName: 'SignalOutbox', tableName: 'signal_outbox', timestamps: false })
  return M
}
