import { Op } from 'sequelize'
import type { JobContext, JobDeps, JobResult } from './job'

/**
 * Key rotation: active keys older than KEY_MAX_AGE_DAYS become `expiring`, with a
 * deadline KEY_GRACE_HOURS away, and their owners are told on `users/<id>/notices`
 * (and see it in `GET /api/v1/me`). Keys whose deadline has passed are revoked, which
 * closes their live MQTT sessions on every node.
 */
export async function rotateKeys(deps: JobDeps, { now, progress }: JobContext): Promise<JobResult> {
  const { ApiKey } = deps.db.models
  const agedBefore = new Date(now.getTime() - deps.config.KEY_MAX_AGE_DAYS * 86_400_000)
  const deadline = new Date(now.getTime() + deps.config.KEY_GRACE_HOURS * 3_600_000)
  const aged = await ApiKey.findAll({ where: { status: 'active', created_at: { [Op.lt]: agedBefore } } })
  for (const key of aged) {
    const expiresAt = key.expires_at !== null && key.expires_at < deadline ? key.expires_at : deadline
    await key.update({ status: 'expiring', expires_at: expiresAt })
    deps.bus.announce({ kind: 'key', keyId: key.id, userId: key.user_id })
    await deps.notifier.notice(key.user_id, {
      type: 'key_expiring', key_id: key.id, prefix: key.prefix, expires_at: expiresAt.toISOString(),
      detail: `API key ${key.prefix} is older than ${deps.config.KEY_MAX_AGE_DAYS} days and stops working at ${expiresAt.toISOString()}; rotate it`
    })
    deps.audit.record({ action: 'key.expiring', result: 'ok', userId: key.user_id, resource: `key/${key.id}`, detail: { prefix: key.prefix, expires_at: expiresAt.toISOString() } })
  }
  progress(`keys marked expiring: ${aged.length}`)
  const revoked = await deps.keys.revokeExpired(now)
  for (const key of revoked) {
    await deps.notifier.notice(key.user_id, { type: 'key_revoked', key_id: key.id, prefix: key.prefix, detail: `API key ${key.prefix} passed its deadline and was revoked` })
    deps.audit.record({ action: 'key.revoke', result: 'ok', userId: key.user_id, resource: `key/${key.id}`, detail: { prefix: key.prefix, reason: 'expired' } })
  }
  return {
    summary: `${aged.length} key(s) marked expiring, ${revoked.length} expired key(s) revoked`,
    counts: { expiring: aged.length, revoked: revoked.length }
  }
}
