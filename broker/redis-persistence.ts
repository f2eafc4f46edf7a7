import type { AedesPersistenceRedis } from 'aedes-persistence-redis'
import type { Redis } from 'ioredis'
import { logger } from '../core/logger'

/**
 * The list aedes-persistence-redis keeps a session's queued packet keys in, oldest first.
 * This is its private key layout: package.json pins the exact version, and
 * test/integration/broker/offline-queue-limit.test.ts fails if the layout changes.
 */
export function offlineQueueKey(clientId: string): string {
  return `outgoing:${encodeURIComponent(clientId)}`
}

/**
 * `persistence` as Aedes should see it: a wrapper (the library's object is left as it is)
 * that changes two calls of the persistence interface.
 * - `outgoingEnqueueCombi`: each offline queue is then trimmed to its newest `queueLimit`
 *   entries, so that a session that never comes back cannot grow Redis without bound. The
 *   trim is not awaited: it runs on the same connection right after the enqueue, so nothing
 *   read later (a reconnect's queue) can come before it.
 * - `outgoingClearMessageId` on a clean session's PUBACK does nothing: Aedes stores nothing
 *   for a clean session's deliveries (it writes them straight to the client), so there is
 *   nothing to clear, and the call would cost about 1 µs per QoS 1 delivery. Every other
 *   clear (the queue a persistent session left, which a clean CONNECT drops) still runs.
 */
export function tuneRedisPersistence(persistence: AedesPersistenceRedis, conn: Redis, queueLimit: number): AedesPersistenceRedis {
  const outgoingEnqueueCombi: AedesPersistenceRedis['outgoingEnqueueCombi'] = async (subs, packet) => {
    await persistence.outgoingEnqueueCombi(subs, packet)
    if (subs === undefined || subs === null || subs.length === 0) return
    const trims = conn.pipeline()
    for (const sub of subs) trims.ltrim(offlineQueueKey(sub.clientId), -queueLimit, -1)
    trims.exec().catch((err: Error) => logger.warn('mqtt: could not trim offline queues', { err: err.message }))
  }
  const outgoingClearMessageId: AedesPersistenceRedis['outgoingClearMessageId'] = async (client, packet) => {
    if (client.clean === true && packet.cmd === 'puback') return undefined
    return persistence.outgoingClearMessageId(client, packet)
  }
  return new Proxy(persistence, {
    get: (target, property, receiver) => {
      if (property === 'outgoingEnqueueCombi') return outgoingEnqueueCombi
      if (property === 'outgoingClearMessageId') return outgoingClearMessageId
      return Reflect.get(target, property, receiver) as unknown
    }
  })
}
