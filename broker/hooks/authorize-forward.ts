import type { AedesPublishPacket, Client } from 'aedes'
import type { BrokerContext } from '../broker-context'
import { DIVERTED_PREFIX } from './authorize-publish'

/**
 * Handler: authorizeForward(client, packet). Synchronous, on every delivery (live,
 * retained and queued): returns the packet to deliver it or null to withhold it.
 * Withholds `$signalhub/…` (handled publishes) always, and any topic the receiver may
 * not subscribe to under the current policy: subscriptions granted earlier stop
 * delivering as soon as the policy changes, before revocation prunes them.
 * Decisions are cached per connection and topic, and the cache is dropped whenever
 * `core.policy.version` moves on.
 */
export function authorizeForward(ctx: BrokerContext) {
  // plain counters on the hot path, handed to Prometheus when it scrapes
  const counts = { delivered: 0, denied: 0 }
  ctx.core.metrics.onCollect(() => {
    ctx.core.metrics.mqttDeliveries.inc(counts.delivered)
    ctx.core.metrics.mqttForwardDenied.inc(counts.denied)
    counts.delivered = 0
    counts.denied = 0
  })
  return (client: Client, packet: AedesPublishPacket): AedesPublishPacket | null => {
    const session = ctx.sessions.get(client)
    if (packet.topic.startsWith(DIVERTED_PREFIX) || session === undefined || session.closing || !session.forward.allows(ctx.core.policy, session.principal, packet.topic)) {
      counts.denied++
      return null
    }
    counts.delivered++
    return packet
  }
}
