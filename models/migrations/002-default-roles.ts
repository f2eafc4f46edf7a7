import type { QueryInterface } from 'sequelize'

/**
 * The three seeded roles and their default permissions. Topic filters may use
 * `${user_id}`; strategy topics are further limited by the policy (owner-only
 * publish, subscription-gated read), so these rules say only which areas a role
 * may touch at all.
 */
export const DEFAULT_ROLES: Record<string, { description: string, rules: Array<[string, string, 'allow' | 'deny']> }> = {
  admin: {
    description: 'Manages users, keys, roles, strategies and subscriptions; reads and publishes everywhere',
    rules: [['admin', '#', 'allow'], ['publish', '#', 'allow'], ['subscribe', '#', 'allow'], ['read', '#', 'allow']]
  },
  publisher: {
    description: 'Publishes signals to the strategies it owns and reads them back',
    rules: [
      ['publish', 'strategy/#', 'allow'], ['subscribe', 'strategy/#', 'allow'], ['read', 'strategy/#', 'allow'],
      ['subscribe', 'users/${user_id}/#', 'allow'], ['read', 'users/${user_id}/#', 'allow']
    ]
  },
  subscriber: {
    description: 'Receives and reads the strategies it is subscribed to',
    rules: [
      ['subscribe', 'strategy/#', 'allow'], ['read', 'strategy/#', 'allow'],
      ['subscribe', 'users/${user_id}/#', 'allow'], ['read', 'users/${user_id}/#', 'allow']
    ]
  }
}

export async function up({ context: qi }: { context: QueryInterface }): Promise<void> {
  const now = new Date()
  for (const [name, role] of Object.entries(DEFAULT_ROLES)) {
    await qi.bulkInsert('roles', [{ name, description: role.description, created_at: now, updated_at: now }])
    const [rows] = await qi.sequelize.query('SELECT id FROM roles WHERE name = ?', { replacements: [name] })
    const roleId = (rows as Array<{ id: number }>)[0].id
    await qi.bulkInsert('permissions', role.rules.map(([action, topic, effect]) => ({
      role_id: roleId, user_id: null, action, topic, effect, created_at: now, updated_at: now
    })))
  }
}

export async function down({ context: qi }: { context: QueryInterface }): Promise<void> {
  await qi.bulkDelete('roles', { name: Object.keys(DEFAULT_ROLES) })
}
