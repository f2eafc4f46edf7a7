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
 * `persistence` as Aedes should see it, with each offline queue trimmed to its newest
 * `limit` entries after every enqueue, so that a session that never comes back cannot grow
 * Redis without bound. A wrapper: the library's object is left as it is. The trim is not
 * awaited: it runs on the same connection right after the enqueue, so nothing read later
 * (a reconnect's queue) can come before it.
 */
export function boundOfflineQueues(persistence: AedesPersistenceRedis, conn: Redis, limit: number): AedesPersistenceRedis {
  const outgoingEnqueueCombi: AedesPersistenceRedis['outgoingEnqueueCombi'] = async (subs, packet) => {
    await persistence.outgoingEnqueueCombi(subs, packet)
    if (subs === undefined || subs === null || subs.length === 0) return
    const trims = conn.pipeline()
    for (const sub of subs) trims.ltrim(offlineQueueKey(sub.clientId), -limit, -1)
    trims.exec().catch((err: Error) => logger.warn('mqtt: could not trim offline queues', { err: err.message }))
  }
  return new Proxy(persistence, {
    get: (target, property, receiver) => property === 'outgoingEnqueueCombi' ? outgoingEnqueueCombi : Reflect.get(target, property, receiver) as unknown
  })
}
