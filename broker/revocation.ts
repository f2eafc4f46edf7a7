import type { Change } from '../core/change-bus'
import { logger } from '../core/logger'
import type { BrokerContext } from './broker-context'
import { forgetStoredSubscription } from './hooks/authorize-subscribe'
import type { Session } from './session-registry'

/** setTimeout's ceiling; a later expiry is re-checked when this fires. */
const MAX_TIMER_MS = 2_147_483_647

/**
 * Live revocation: applies access changes to open connections within moments, on
 * every node (the change bus relays changes through Redis, and the policy store
 * reloads on each).
 *
 * - `{kind:'key'}` and `{kind:'user'}`: the sessions of that key / user are re-checked
 *   against the database (`keys.stillValid`) and closed when no longer valid
 *   (revoked or expired key, disabled user, changed role).
 * - A key's expiry: each session holds a timer at its key's `expires_at`.
 * - policy reload (permissions, strategies, subscriptions): each session's filters are
 *   re-checked; a filter no longer allowed is unsubscribed, removed from the stored
 *   session, and announced on `users/<id>/notices` as `subscription_removed`.
 *
 * Returns a function that stops watching.
 */
export function watchRevocations(ctx: BrokerContext): () => void {
  const { core, sessions } = ctx
  const expiryTimers = new Map<Session, NodeJS.Timeout>()

  const onChange = (change: Change): void => {
    switch (change.kind) {
      case 'key':
        recheck(sessions.all().filter((s) => s.principal.keyId === change.keyId), 'key changed')
        break
      case 'user':
        recheck(sessions.forUser(change.userId), 'user changed')
        break
      case 'policy':
        break
    }
  }
  const onPolicy = (): void => {
    for (const session of sessions.all()) pruneSubscriptions(ctx, session)
  }

  const recheck = (list: Session[], why: string): void => {
    for (const session of list) {
      if (session.closing) continue
      core.keys.stillValid(session.principal).then((valid) => {
        if (!valid) closeSession(ctx, session, why)
        else scheduleExpiry(session)
      }, (err: unknown) => logger.error('mqtt: could not re-check a session', { clientId: session.client.id, err: (err as Error).message }))
    }
  }

  const scheduleExpiry = (session: Session): void => {
    clearTimeout(expiryTimers.get(session))
    expiryTimers.delete(session)
    const keyId = session.principal.keyId
    if (keyId === null) return
    core.keys.expiresAt(keyId).then((expiry) => {
      const expiresAt = expiry?.getTime()
      if (expiresAt === undefined || session.closing || session.client.closed) return
      const timer = setTimeout(() => {
        expiryTimers.delete(session)
        recheck([session], 'key expired')
      }, Math.min(Math.max(expiresAt - core.now().getTime(), 0) + 50, MAX_TIMER_MS))
      timer.unref()
      expiryTimers.set(session, timer)
    }, (err: unknown) => logger.warn('mqtt: could not read a key expiry', { keyId, err: (err as Error).message }))
  }
  const onRemoved = (session: Session): void => {
    clearTimeout(expiryTimers.get(session))
    expiryTimers.delete(session)
  }

  core.bus.on('change', onChange)
  core.policy.on('changed', onPolicy)
  sessions.on('added', scheduleExpiry)
  sessions.on('removed', onRemoved)
  return () => {
    core.bus.off('change', onChange)
    core.policy.off('changed', onPolicy)
    sessions.off('added', scheduleExpiry)
    sessions.off('removed', onRemoved)
    for (const timer of expiryTimers.values()) clearTimeout(timer)
    expiryTimers.clear()
  }
}

/** Closes a session whose key or user no longer may act; its will is not published. */
export function closeSession(ctx: BrokerContext, session: Session, reason: string): void {
  if (session.closing) return
  session.closing = true
  const { principal, client, ip } = session
  ctx.core.audit.record({
    action: 'mqtt.revoke', result: 'ok', userId: principal.userId, actor: principal.userName, ip, clientId: client.id,
    detail: { reason, key_prefix: principal.keyPrefix }
  })
  logger.info('mqtt: closing a revoked session', { clientId: client.id, userId: principal.userId, reason })
  client.close()
}

/**
 * Unsubscribes the filters the policy no longer allows for this session (those Aedes
 * holds for it, as `session.filters` follows them), removes them from the stored
 * session, and tells the user.
 */
export function pruneSubscriptions(ctx: BrokerContext, session: Session): void {
  const { client, principal } = session
  if (session.closing || client.closed) return
  const policy = ctx.core.policy.current
  const refused = [...session.filters].filter((topic) => !policy.can(principal, 'subscribe', topic))
  if (refused.length === 0) return
  for (const topic of refused) session.filters.delete(topic)
  if (!client.clean) forgetStoredSubscription(ctx, client, ...refused)
  // without a messageId Aedes sends no UNSUBACK, which the client never asked for
  client.unsubscribe({ cmd: 'unsubscribe', unsubscriptions: refused }, (err?: Error) => {
    if (err) logger.warn('mqtt: could not drop a subscription', { clientId: client.id, err: err.message })
  })
  ctx.core.audit.record({
    action: 'mqtt.unsubscribe', result: 'ok', userId: principal.userId, actor: principal.userName, ip: session.ip,
    clientId: client.id, resource: refused.join(',').slice(0, 255), detail: { reason: 'policy changed' }
  })
  void ctx.core.notifier.notice(principal.userId, {
    type: 'subscription_removed', detail: `no longer allowed: ${refused.join(', ')}`, topics: refused, client_id: client.id
  })
}
