import { Redis } from 'ioredis'
import { Database } from '../models/database'
import { migrate } from '../models/migrate'
import { AuditTrail } from './audit/audit-trail'
import { AuthThrottle } from './auth/auth-throttle'
import { ensureBootstrapAdmin } from './auth/bootstrap-admin'
import { KeyService } from './auth/key-service'
import { ChangeBus } from './change-bus'
import type { Config } from './config'
import { logger } from './logger'
import { createMetrics, type Metrics } from './metrics'
import { Notifier } from './notifier'
import { PolicyStore } from './policy/policy-store'
import { SignalService } from './signals/signal-service'

/**
 * Everything both doors share, built once per process. The broker and the bridge
 * receive this object and call its services; neither knows the other.
 */
export interface Core {
  config: Config
  db: Database
  bus: ChangeBus
  policy: PolicyStore
  keys: KeyService
  /** `keys.verify` behind the key-guessing throttle (per address and per key prefix); what both doors call. */
  authThrottle: AuthThrottle
  audit: AuditTrail
  signals: SignalService
  /** Server messages to `users/<id>/notices` and `users/<id>/reports`. */
  notifier: Notifier
  metrics: Metrics
  /** A Redis connection for commands (rate limits, locks), when REDIS_URL is set. */
  redis?: Redis
  now: () => Date
  close(): Promise<void>
}

export interface CoreOptions {
  /** Clock for tests; defaults to the system clock. */
  now?: () => Date
}

const POLICY_POLL_MS = 30_000

export function createRedis(url: string, name: string): Redis {
  const client = new Redis(url, { connectionName: name, maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: true })
  client.on('error', (err: Error) => logger.warn('redis error', { connection: name, err: err.message }))
  return client
}

export async function createCore(config: Config, options: CoreOptions = {}): Promise<Core> {
  const now = options.now ?? (() => new Date())
  const db = new Database(config.DATABASE_URL, { poolMax: config.DATABASE_POOL_MAX })
  const applied = await migrate(db)
  if (applied.length > 0) logger.info('database migrated', { applied })

  const metrics = createMetrics()
  const bus = new ChangeBus()
  let redis: Redis | undefined
  let redisSubscriber: Redis | undefined
  if (config.REDIS_URL !== undefined) {
    redis = createRedis(config.REDIS_URL, 'signalhub-commands')
    redisSubscriber = createRedis(config.REDIS_URL, 'signalhub-changes')
    await Promise.all([redis.connect(), redisSubscriber.connect()])
    await bus.connect(redis, redisSubscriber, config.REDIS_PREFIX)
    const up = redis
    up.on('ready', () => metrics.redisUp.set(1))
    up.on('close', () => metrics.redisUp.set(0))
    metrics.redisUp.set(1)
  }

  const policy = new PolicyStore(db)
  await policy.reload()
  bus.on('change', (change) => {
    if (change.kind === 'policy' || change.kind === 'user') {
      policy.reload().catch((err: unknown) => logger.error('policy: reload failed', { err: (err as Error).message }))
    }
  })

  // Without Redis no other process can announce changes (the CLI, a second node): poll instead.
  const policyPoll = redis === undefined
    ? setInterval(() => { policy.reload().catch(() => undefined) }, POLICY_POLL_MS)
    : undefined
  policyPoll?.unref()

  const audit = new AuditTrail(db)
  audit.start()
  const keys = new KeyService(db, bus, { graceHours: config.KEY_GRACE_HOURS, cacheMs: config.KEY_CACHE_MS, now })
  const authThrottle = AuthThrottle.create(config, { redis, audit, verify: (key) => keys.verify(key) })
  const signals = new SignalService(db, policy, audit, metrics, { types: config.SIGNAL_TYPES, timeZone: config.TZ_DEFAULT, now })

  if (config.BOOTSTRAP_ADMIN_KEY !== undefined) {
    await ensureBootstrapAdmin(db, keys, config.BOOTSTRAP_ADMIN_NAME, config.BOOTSTRAP_ADMIN_KEY)
    await policy.reload()
  }
  metrics.databaseUp.set(1)

  return {
    config, db, bus, policy, keys, authThrottle, audit, signals, notifier: new Notifier(), metrics, redis, now,
    async close() {
      clearInterval(policyPoll)
      await signals.settled()
      await audit.stop()
      await Promise.all([redis?.quit().catch(() => undefined), redisSubscriber?.quit().catch(() => undefined)])
      await db.close()
    }
  }
}
