import type { Client, Subscription } from 'aedes'
import { logger } from '../core/logger'
import type { BrokerContext } from './broker-context'
import { forgetStoredSubscription } from './hooks/authorize-subscribe'
import { pruneSubscriptions } from './revocation'
import type { Session } from './session-registry'

const REFUSED = 128

/**
 * Bookkeeping on Aedes events: the connection gauge, `mqtt.disconnect` audit entries,
 * dropping sessions, logging client errors (with the client id, never a key),
 * following each session's filters, and removing refused filters that Aedes stored for
 * a persistent session anyway (it stores a SUBSCRIBE's filters before the SUBACK
 * decides them).
 */
export function trackSessionEvents(ctx: BrokerContext): void {
  const { aedes, core, sessions } = ctx
  const updateGauge = (): void => core.metrics.mqttConnections.set(aedes.connectedClients)

  aedes.on('client', updateGauge)
  aedes.on('clientDisconnect', (client: Client) => {
    updateGauge()
    const session = sessions.get(client)
    if (session !== undefined) {
      core.audit.record({
        action: 'mqtt.disconnect', result: 'ok', userId: session.principal.userId, actor: session.principal.userName,
        ip: session.ip, clientId: client.id
      })
    }
    sessions.remove(client)
  })
  trackFilters(ctx)
  aedes.on('subscribe', (subscriptions: Subscription[], client: Client) => {
    if (client.clean) return
    const refused = subscriptions.filter((s) => s.qos === REFUSED as never).map((s) => s.topic)
    if (refused.length > 0) forgetStoredSubscription(ctx, client, ...refused)
  })
  aedes.on('clientError', (client: Client, err: Error) => {
    logger.info('mqtt: client error, connection closed', { clientId: client.id, err: err.message })
  })
  aedes.on('connectionError', (client: Client, err: Error) => {
    logger.info('mqtt: connection refused', { clientId: client.id, err: err.message })
  })
}

/**
 * Keeps `session.filters` equal to the filters Aedes holds for the client: granted
 * filters of each SUBSCRIBE are added, UNSUBSCRIBEs removed. A persistent session's
 * filters are restored on reconnect without a 'subscribe' event (after the
 * authorizeSubscribe hook re-checked each), so once the client is ready they are read
 * from the persistence; a filter subscribed or unsubscribed meanwhile keeps the state
 * its event gave it.
 */
function trackFilters(ctx: BrokerContext): void {
  const { aedes, sessions } = ctx
  const changedDuringRestore = new WeakMap<Session, Set<string>>()

  aedes.on('subscribe', (subscriptions: Subscription[], client: Client) => {
    const session = sessions.get(client)
    if (session === undefined) return
    for (const { topic, qos } of subscriptions) {
      if (qos === REFUSED as never) continue
      session.filters.add(topic)
      changedDuringRestore.get(session)?.add(topic)
    }
  })
  aedes.on('unsubscribe', (topics: string[], client: Client) => {
    const session = sessions.get(client)
    if (session === undefined) return
    for (const topic of topics) {
      session.filters.delete(topic)
      changedDuringRestore.get(session)?.add(topic)
    }
  })
  aedes.on('clientReady', (client: Client) => {
    const session = sessions.get(client)
    if (client.clean || session === undefined) return
    const changed = new Set<string>()
    changedDuringRestore.set(session, changed)
    ctx.persistence.subscriptionsByClient({ id: client.id }).then((stored) => {
      for (const { topic } of stored) {
        if (!changed.has(topic)) session.filters.add(topic)
      }
      // the policy may have changed between the restore and now
      pruneSubscriptions(ctx, session)
    }, (err: unknown) => {
      logger.warn('mqtt: could not read the restored subscriptions', { clientId: client.id, err: (err as Error).message })
    }).finally(() => changedDuringRestore.delete(session))
  })
}
