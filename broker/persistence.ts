import type { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import type { AedesOptions } from 'aedes'
import aedesPersistenceRedis from 'aedes-persistence-redis'
import { Redis } from 'ioredis'
import mqemitterRedis from 'mqemitter-redis'
import type { Config } from '../core/config'
import { logger } from '../core/logger'

/** Where sessions, retained messages and offline queues live, and how messages travel between nodes. */
export interface BrokerStorage {
  kind: 'memory' | 'redis'
  /** `persistence`, `mq` and the broker `id` for Aedes; empty = Aedes' in-memory defaults. */
  options: Pick<AedesOptions, 'persistence' | 'mq' | 'id'>
  /** Resolves once clean-up already under way (sessions that just ended) has reached Redis. */
  settle(): Promise<void>
  /** Closes the Redis connections opened here (Aedes closes `mq` itself). */
  close(): Promise<void>
}

function redisConnection(url: string, name: string, keyPrefix?: string): Redis {
  const conn = new Redis(url, { connectionName: name, keyPrefix, maxRetriesPerRequest: 2 })
  conn.on('error', (err: Error) => logger.warn('redis error', { connection: name, err: err.message }))
  return conn
}

const SETTLE_LIMIT_MS = 2000

/**
 * Waits until no command has been pending on `conn` for a few turns of the event loop.
 * Sessions that ended just before shutdown clean up in several dependent steps; closing
 * in the middle of them would fail the later steps ("Connection is closed").
 */
async function settled(conn: Redis): Promise<void> {
  const queues = conn as unknown as { commandQueue: { length: number }, offlineQueue: { length: number } }
  const deadline = Date.now() + SETTLE_LIMIT_MS
  let quiet = 0
  while (quiet < 3 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5))
    quiet = queues.commandQueue.length === 0 && queues.offlineQueue.length === 0 ? quiet + 1 : 0
  }
}

/**
 * Without REDIS_URL: aedes-persistence and mqemitter in memory (one node; sessions end
 * with the process). With REDIS_URL: aedes-persistence-redis for subscriptions,
 * retained messages, wills and offline queues (keys under `<REDIS_PREFIX>mqtt:`),
 * mqemitter-redis for fan-out between nodes, and
 * - `packetTTL` = MQTT_PACKET_TTL_SECONDS: a queued message expires if unclaimed;
 * - `maxSessionDelivery` = MQTT_MAX_SESSION_DELIVERY: most messages sent on reconnect;
 * - each offline queue is trimmed to its newest MQTT_QUEUE_LIMIT entries.
 */
export function createBrokerStorage(config: Config): BrokerStorage {
  const url = config.REDIS_URL
  if (url === undefined) return { kind: 'memory', options: {}, settle: async () => undefined, close: async () => undefined }

  const conn = redisConnection(url, 'signalhub-mqtt-persistence', `${config.REDIS_PREFIX}mqtt:`)
  const ttl = config.MQTT_PACKET_TTL_SECONDS
  const persistence = aedesPersistenceRedis({ conn, maxSessionDelivery: config.MQTT_MAX_SESSION_DELIVERY, packetTTL: () => ttl })
  const enqueue = persistence.outgoingEnqueueCombi.bind(persistence)
  const limit = config.MQTT_QUEUE_LIMIT
  persistence.outgoingEnqueueCombi = async (subs, packet) => {
    await enqueue(subs, packet)
    if (subs === undefined || subs === null || subs.length === 0) return
    // the list holds packet keys in arrival order; aedes-persistence-redis names it outgoing:<id>
    const trims = conn.pipeline()
    for (const sub of subs) trims.ltrim(`outgoing:${encodeURIComponent(sub.clientId)}`, -limit, -1)
    await trims.exec()
  }

  const id = randomUUID()
  const mq = deliverLocallyFirst(mqemitterRedis({
    subConn: redisConnection(url, 'signalhub-mqtt-sub'),
    pubConn: redisConnection(url, 'signalhub-mqtt-pub')
  }), id)
  // mqemitter-redis re-emits its connections' errors on `state`; unheard, one Redis
  // outage would end the process with an uncaught 'error' event
  ;(mq as unknown as { state: EventEmitter }).state.on('error', (err: Error) => {
    logger.warn('redis fan-out error', { err: err.message })
  })
  return {
    kind: 'redis',
    options: { persistence, mq, id },
    settle: () => settled(conn),
    close: async () => {
      await settled(conn)
      await conn.quit().catch(() => undefined)
    }
  }
}

type RedisEmitter = ReturnType<typeof mqemitterRedis>
type Message = Parameters<RedisEmitter['emit']>[0]
type Done = (err?: Error) => void
/** mqemitter-redis keeps MQEmitter's local `emit` as `_emit`; its Redis handler calls it for each message received. */
type WithLocalEmit = RedisEmitter & { _emit: (message: Message, done?: Done) => void }

/**
 * mqemitter-redis sends every message through Redis and delivers it, even to
 * subscribers on this node, only when it comes back; and Aedes handles a client's next
 * packet only after `emit` calls back, so each publish waited for a Redis round trip
 * before the next one was read. Here a message is delivered to this node's subscribers
 * at once and published to Redis for the other nodes without waiting for the reply
 * (ioredis pipelines these); when it comes back from Redis it is recognised by its origin
 * (Aedes stamps `brokerId` on every packet, and this node's Aedes is given `brokerId`)
 * and dropped. Messages from other nodes are delivered as before. Redis PUBLISH is
 * fire-and-forget towards the other nodes anyway (a node whose subscription link is down
 * misses it either way), so a failed PUBLISH is logged rather than failing the publisher.
 */
function deliverLocallyFirst(emitter: RedisEmitter, brokerId: string): RedisEmitter {
  const mq = emitter as WithLocalEmit
  const emitLocal = mq._emit.bind(mq)
  const emitRemote = mq.emit.bind(mq)
  let lastWarning = 0
  const onRemoteFailure = (err?: Error): void => {
    if (err === undefined || Date.now() - lastWarning < 1000) return
    lastWarning = Date.now()
    logger.warn('mqtt: could not relay a message to the other nodes through Redis', { err: err.message })
  }
  mq._emit = (message: Message, done?: Done) => {
    if (message.brokerId === brokerId) {
      done?.()
      return
    }
    emitLocal(message, done)
  }
  mq.emit = (message: Message, done?: Done) => {
    emitRemote(message, onRemoteFailure)
    emitLocal(message, done)
  }
  return mq
}
