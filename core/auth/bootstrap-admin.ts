import { UniqueConstraintError } from 'sequelize'
import type { Database } from '../../models/database'
import { logger } from '../logger'
import type { KeyService } from './key-service'

/**
 * Seeds an admin holding exactly the operator's BOOTSTRAP_ADMIN_KEY. Idempotent: on
 * later starts the user and key are found and left as they are (a revoked bootstrap
 * key stays revoked).
 */
export async function ensureBootstrapAdmin(db: Database, keys: KeyService, name: string, rawKey: string): Promise<void> {
  try {
    await seed(db, keys, name, rawKey)
  } catch (err) {
    // another node seeding the same admin at the same moment: its rows are ours too
    if (!(err instanceof UniqueConstraintError)) throw err
    await seed(db, keys, name, rawKey)
  }
}

async function seed(db: Database, keys: KeyService, name: string, rawKey: string): Promise<void> {
  const { User } = db.models
  const [user, userCreated] = await User.findOrCreate({ where: { name }, defaults: { name, contact: null, role: 'admin' } })
  if (user.role !== 'admin') {
    logger.warn('bootstrap admin: a user with this name exists but is not an admin; key not installed', { user: name })
    return
  }
  const { created } = await keys.adopt(user.id, rawKey, 'bootstrap')
  if (userCreated || created) logger.info('bootstrap admin ready', { user: name, userId: user.id })
}
