import type { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import type { AedesOptions } from 'aedes'
import aedesPersistenceRedis from 'aedes-persistence-redis'
import { Redis } from 'ioredis'
import mqemitterRedis from 'mqemitter-redis'
import type { Config } from '../core/config'
import { logger } from '../core/logger'
import { deliverLocallyFirst } from './redis-fanout'

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

function redisConnection(url: string, name: string, options: { keyPrefix?: string, enableReadyCheck?: boolean } = {}): Redis {
  const conn = new Redis(url, { connectionName: name, maxRetriesPerRequest: 2, ...options })
  conn.on('error', (err: Error) => logger.warn('redis error', { connection: name, err: err.message }))
  return conn
}

/**
 * The two Redis connections of the fan-out between nodes. The subscription link skips
 * ioredis' ready check: that check sends INFO once connected, and a SUBSCRIBE made in
 * the moment between (ioredis writes SUBSCRIBE at once, as it is allowed while Redis
 * loads) puts the connection in subscriber mode, where INFO is refused, so the link
 * would never become ready: an unhandled rejection, and after a reconnect, the node's
 * earlier subscriptions never renewed.
 */
export function fanoutLinks(url: string): { pub: Redis, sub: Redis } {
  return {
    pub: redisConnection(url, 'signalhub-mqtt-pub'),
    sub: redisConnection(url, 'signalhub-mqtt-sub', { enableReadyCheck: false })
  }
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

  const conn = redisConnection(url, 'signalhub-mqtt-persistence', { keyPrefix: `${config.REDIS_PREFIX}mqtt:` })
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

  // A clean session's QoS 1 deliveries are written straight to it: Aedes stores nothing for
  // them, so its PUBACK has nothing to clear, yet aedes-persistence-redis would build two
  // keys and look them up for every one. Every other clear (the queue an earlier persistent
  // session left, which a clean CONNECT drops message by message) still runs.
  const clear = persistence.outgoingClearMessageId.bind(persistence)
  persistence.outgoingClearMessageId = async (client, packet) => client.clean === true && packet.cmd === 'puback' ? undefined : clear(client, packet)

  const id = randomUUID()
  const { pub, sub } = fanoutLinks(url)
  const mq = deliverLocallyFirst(mqemitterRedis({ subConn: sub, pubConn: pub }), id, { pub, sub })
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
