import type { AedesOptions } from 'aedes'
import aedesMemoryPersistence, { type AedesMemoryPersistence } from 'aedes-persistence'
import aedesPersistenceRedis from 'aedes-persistence-redis'
import { Redis } from 'ioredis'
import type { Config } from '../core/config'
import { logger } from '../core/logger'
import type { BrokerContext } from './broker-context'
import { RedisEmitter } from './redis-emitter'
import { tuneRedisPersistence } from './redis-persistence'

/** Where sessions, retained messages and offline queues live, and how messages travel between nodes. */
export interface BrokerStorage {
  kind: 'memory' | 'redis'
  /** `persistence` and `mq` for Aedes (no `mq` = Aedes' in-memory emitter). */
  options: Pick<AedesOptions, 'persistence' | 'mq'>
  /** The persistence in `options`, for the calls Signal Hub makes itself. */
  persistence: BrokerContext['persistence']
  /** Resolves once clean-up already under way (sessions that just ended) has reached Redis. */
  settle(): Promise<void>
  /** Closes the Redis connection opened here (Aedes closes `mq` itself). */
  close(): Promise<void>
}

/** The Redis pub/sub channel of one deployment's fan-out. */
export function fanoutChannel(config: Pick<Config, 'REDIS_PREFIX'>): string {
  return `${config.REDIS_PREFIX}mqtt:fanout`
}

/** Most PING round trips `settled` waits for, and the longest it waits in all. */
const SETTLE_ROUNDS = 10
const SETTLE_LIMIT_MS = 2000

/** Longest wait for Redis to answer QUIT before the connection is dropped. */
const QUIT_TIMEOUT_MS = 1000

/** Whether `reply` comes (and is not an error) within `ms`: not while Redis is away or hangs. */
async function answeredWithin(reply: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms) })
  const answered = await Promise.race([reply.then(() => true, () => false), late])
  clearTimeout(timer)
  return answered
}

/**
 * Waits for a few PING round trips on `conn`, bounded in time. Sessions that ended just
 * before shutdown clean up in several dependent steps, each sent once the one before it is
 * answered; Redis answers a PING only after every command sent before it, so each round
 * lets every such chain take at least one more step (aedes-persistence-redis' longest take
 * about six). Closing in the middle of them would fail the later steps ("Connection is
 * closed").
 */
async function settled(conn: Redis): Promise<void> {
  const deadline = Date.now() + SETTLE_LIMIT_MS
  for (let round = 0; round < SETTLE_ROUNDS; round++) {
    const left = deadline - Date.now()
    if (left <= 0 || !await answeredWithin(conn.ping(), left)) return
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/**
 * Without REDIS_URL: aedes-persistence in memory and Aedes' own emitter (one node;
 * sessions end with the process). With REDIS_URL: aedes-persistence-redis for
 * subscriptions, retained messages, wills and offline queues (keys under
 * `<REDIS_PREFIX>mqtt:`), a `RedisEmitter` on `<REDIS_PREFIX>mqtt:fanout` between nodes, and
 * - `packetTTL` = MQTT_PACKET_TTL_SECONDS: a queued message expires if unclaimed;
 * - `maxSessionDelivery` = MQTT_MAX_SESSION_DELIVERY: most messages sent on reconnect;
 * - each offline queue is trimmed to its newest MQTT_QUEUE_LIMIT entries (`tuneRedisPersistence`).
 */
export function createBrokerStorage(config: Config): BrokerStorage {
  const url = config.REDIS_URL
  if (url === undefined) {
    // aedes-persistence 11 declares its callback forms only; Aedes 1.x calls the promise forms
    // (its MIGRATION.md: "persistence interface from callback to async/await"), as Signal Hub does
    const persistence = aedesMemoryPersistence() as AedesMemoryPersistence & BrokerContext['persistence']
    return { kind: 'memory', options: { persistence }, persistence, settle: async () => undefined, close: async () => undefined }
  }

  const name = 'signalhub-mqtt-persistence'
  const conn = new Redis(url, { connectionName: name, maxRetriesPerRequest: 2, keyPrefix: `${config.REDIS_PREFIX}mqtt:` })
  conn.on('error', (err: Error) => logger.warn('redis error', { connection: name, err: err.message }))
  const ttl = config.MQTT_PACKET_TTL_SECONDS
  const persistence = tuneRedisPersistence(
    aedesPersistenceRedis({ conn, maxSessionDelivery: config.MQTT_MAX_SESSION_DELIVERY, packetTTL: () => ttl }),
    conn,
    config.MQTT_QUEUE_LIMIT
  )
  const mq = new RedisEmitter({ url, channel: fanoutChannel(config) })
  return {
    kind: 'redis',
    options: { persistence, mq },
    persistence,
    settle: () => settled(conn),
    close: async () => {
      await settled(conn)
      await answeredWithin(conn.quit(), QUIT_TIMEOUT_MS)
      conn.disconnect()
    }
  }
}
