import { randomBytes } from 'node:crypto'
import type { User } from '../../models/user.model'
import type { Database } from '../../models/database'
import type { Operations } from '../operations'
import { AppError } from '../errors'
import type { ActionContext } from '../action-context'

/** The stand-in for an erased user in audit rows: random, so it cannot be traced back to the id or the name. */
export const ERASED_ACTOR = /^erased-[0-9a-f]{12}$/

function erasedActor(): string {
  return `erased-${randomBytes(6).toString('hex')}`
}

/**
 * Deletes a user and everything held about them, in one transaction: keys,
 * subscriptions, permissions, client bindings, reports and idempotency records.
 * Audit rows stay (they record what happened) but lose the link to the person:
 * their own rows get a random pseudonym as `actor` and lose `user_id`, address, client
 * id and details (which may hold the MQTT user name); other users' rows about them
 * (`user/<id>`) lose their details, and rows naming their client ids lose those. Signals they published keep
 * their content with `publisher_id` null. Strategies are not deleted with their
 * owner: a user who still owns strategies is refused with 409.
 */
export async function eraseUserData(db: Database, ops: Operations, ctx: ActionContext, user: User): Promise<void> {
  const { Strategy, ApiKey, Subscription, Permission, ClientBinding, Report, IdempotencyKey, Signal, AuditLog, User: Users } = db.models
  const owned = await Strategy.count({ where: { owner_id: user.id } })
  if (owned > 0) throw new AppError('conflict', `user ${user.id} owns ${owned} strategies; delete them or give them to another owner first`)

  const clientIds = (await ClientBinding.findAll({ where: { user_id: user.id }, attributes: ['client_id'] })).map((b) => b.client_id)
  const keyIds = (await ApiKey.findAll({ where: { user_id: user.id }, attributes: ['id'] })).map((k) => k.id)
  const pseudonym = erasedActor()
  // entries still buffered would otherwise be written after the pseudonymisation
  await ops.audit.flush()
  await db.transaction(async (transaction) => {
    const byUser = { where: { user_id: user.id }, transaction }
    await ApiKey.destroy(byUser)
    await Subscription.destroy(byUser)
    await Permission.destroy(byUser)
    await ClientBinding.destroy(byUser)
    await Report.destroy(byUser)
    await IdempotencyKey.destroy(byUser)
    await Signal.update({ publisher_id: null }, { where: { publisher_id: user.id }, transaction })
    await AuditLog.update({ user_id: null, actor: pseudonym, ip: null, client_id: null, detail: null }, byUser)
    await AuditLog.update({ detail: null }, { where: { resource: `user/${user.id}` }, transaction })
    if (clientIds.length > 0) await AuditLog.update({ client_id: null }, { where: { client_id: clientIds }, transaction })
    await Users.destroy({ where: { id: user.id }, transaction })
  })

  const self = ctx.principal.userId === user.id
  ops.audit.record({
    action: self ? 'me.erase' : 'user.delete',
    result: 'ok',
    userId: self ? null : ctx.principal.userId > 0 ? ctx.principal.userId : null,
    actor: self ? pseudonym : ctx.principal.userName,
    resource: `user/${user.id}`,
    ip: ctx.ip ?? null,
    requestId: ctx.requestId ?? null,
    detail: { keys: keyIds.length, client_ids: clientIds.length, pseudonym }
  })
  for (const keyId of keyIds) ops.bus.announce({ kind: 'key', keyId, userId: user.id })
  for (const clientId of clientIds) ops.bus.announce({ kind: 'client-binding', clientId })
  ops.bus.announce({ kind: 'user', userId: user.id })
  ops.bus.announce({ kind: 'policy' })
  await ops.policy.reload()
}
