import type { Client, Subscription } from 'aedes'
import { logger } from '../core/logger'
import type { BrokerContext } from './broker-context'
import { forgetStoredSubscription } from './hooks/authorize-subscribe'

const REFUSED = 128

/**
 * Bookkeeping on Aedes events: the connection gauge, `mqtt.disconnect` audit entries,
 * dropping sessions, logging client errors (with the client id, never a key), and
 * removing refused filters that Aedes stored for a persistent session anyway
 * (it stores a SUBSCRIBE's filters before the SUBACK decides them).
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
