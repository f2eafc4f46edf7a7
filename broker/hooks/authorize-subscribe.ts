import type { Client, Subscription } from 'aedes'
import { logger } from '../../core/logger'
import type { BrokerContext } from '../broker-context'

type SubscribeCallback = (error: Error | null, subscription?: Subscription | null) => void

/**
 * Handler: authorizeSubscribe(client, subscription, callback). Asks
 * `policy.can(principal, 'subscribe', filter)` and nothing else. A refused filter is
 * negated (`callback(null, null)`): its SUBACK return code is 0x80 while the other
 * filters of the same SUBSCRIBE are granted; the connection stays open. Wildcards are
 * granted only when every topic they could match is allowed, and `$SYS/#` only to
 * admins (both decided by the policy). Refusals are audited as `mqtt.subscribe`.
 *
 * Also runs when a persistent session is restored: a filter the user may no longer
 * subscribe to is then dropped from the stored session too.
 */
export function authorizeSubscribe(ctx: BrokerContext) {
  return (client: Client, subscription: Subscription, callback: SubscribeCallback): void => {
    const session = ctx.sessions.get(client)
    const decision = session === undefined || session.closing
      ? { allowed: false, reason: 'no-session' }
      : ctx.core.policy.current.explain(session.principal, 'subscribe', subscription.topic)
    if (decision.allowed) {
      callback(null, subscription)
      return
    }
    ctx.core.audit.record({
      action: 'mqtt.subscribe', result: 'denied', userId: session?.principal.userId ?? null, actor: session?.principal.userName ?? null,
      resource: subscription.topic, ip: session?.ip ?? null, clientId: client.id, detail: { reason: decision.reason }
    })
    if (!client.clean) forgetStoredSubscription(ctx, client, subscription.topic)
    callback(null, null)
  }
}

/** Aedes stores a SUBSCRIBE's filters before it knows which were negated; see also session-events.ts. */
export function forgetStoredSubscription(ctx: BrokerContext, client: Client, ...topics: string[]): void {
  ctx.persistence.removeSubscriptions(client, topics).catch((err: unknown) => {
    logger.warn('mqtt: could not remove a refused subscription from the session', { clientId: client.id, err: (err as Error).message })
  })
}
