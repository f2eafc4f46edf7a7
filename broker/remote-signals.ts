import type { AedesPublishPacket } from 'aedes'
import { logger } from '../core/logger'
import type { SignalView } from '../core/signals/signal-service'
import type { BrokerContext } from './broker-context'

const SIGNALS = 'strategy/#'

/**
 * Signals stored on other nodes reach this node through the shared fan-out (Redis).
 * They are re-emitted as the signal service's `published` event, so in-process readers
 * (the SSE stream) see every signal of the cluster, not only those ingested here.
 */
export function relayRemoteSignals(ctx: BrokerContext): () => Promise<void> {
  const { aedes, core } = ctx
  const deliver = (packet: AedesPublishPacket, done: () => void): void => {
    if (packet.brokerId !== aedes.id && packet.payload.length > 0) {
      try {
        core.signals.emit('published', [JSON.parse(packet.payload.toString()) as SignalView])
      } catch (err) {
        logger.warn('mqtt: unreadable signal from another node', { topic: packet.topic, err: (err as Error).message })
      }
    }
    done()
  }
  aedes.subscribe(SIGNALS, deliver, () => undefined)
  return () => new Promise<void>((resolve) => aedes.unsubscribe(SIGNALS, deliver, () => resolve()))
}
