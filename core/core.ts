import { Redis } from 'ioredis'
import { Database } from '../models/database'
import { migrate } from '../models/migrate'
import { AuditLogQuery } from './audit/audit-query'
import { AuditTrail } from './audit/audit-trail'
import { AuthThrottle } from './auth/auth-throttle'
import { ensureBootstrapAdmin } from './auth/bootstrap-admin'
import { KeyService } from './auth/key-service'
import { ChangeBus } from './change-bus'
import type { Config } from './config'
import { Jobs } from './jobs/scheduler'
import { logger } from './logger'
import { createMetrics, type Metrics } from './metrics'
import { Notifier } from './notifier'
import { Operations } from './operations'
import { PermissionService } from './permissions/permission-service'
import { PolicyStore } from './policy/policy-store'
import { Outbox } from './signals/outbox'
import { SignalHistory } from './signals/signal-history'
import { SignalService } from './signals/signal-service'
import { StrategyService } from './strategies/strategy-service'
import { SubscriptionService } from './subscriptions/subscription-service'
import { ClientBindingService } from './users/client-binding-service'
import { KeyManagement } from './users/key-management'
import { MeService } from './users/me-service'
import { UserService } from './users/user-service'

/**
 * Everything both doors and the CLI share, built once per process by `createCore`. The
 * broker, the bridge and the scripts call these services; none of them reaches the
 * database itself, and neither door knows the other.
 */
export interface Core {
  config: Config
  /** Changes that affect access, announced to every node. */
  bus: ChangeBus
  /** The one access policy (`policy.current.can(…)`), reloaded on every change. */
  policy: PolicyStore
  /** API-key verification (the one verifier both doors call, through `authThrottle`). */
  keys: KeyService
  /** `keys.verify` behind the key-guessing throttle (per address and per key prefix); what both doors call. */
  authThrottle: AuthThrottle
  audit: AuditTrail
  /** The one write path for signals: validate, authorise, store with seq, hand to the broker. */
  signals: SignalService
  /** Stored signals as their readers may see them: history, catch-up, stats. */
  history: SignalHistory
  /** Republishes signals stored but never handed to the broker. */
  outbox: Outbox
  /** Server messages to `users/<id>/notices` and `users/<id>/reports`. */
  notifier: Notifier
  metrics: Metrics
  users: UserService
  /** API keys as users and admins manage them (create, list, rotate, revoke). */
  apiKeys: KeyManagement
  /** MQTT client ids bound to users (the broker claims them at CONNECT). */
  clientBindings: ClientBindingService
  strategies: StrategyService
  subscriptions: SubscriptionService
  /** Roles and permission rules. */
  permissions: PermissionService
  /** A user's own profile, export, erasure and reports. */
  me: MeService
  auditLog: AuditLogQuery
  /** The scheduled jobs, also runnable on demand. */
  jobs: Jobs
  /** A Redis connection for commands (rate limits, locks), when REDIS_URL is set. */
  redis?: Redis
  now: () => Date
  /** True when the database answers a trivial query (readiness). */
  databaseReachable(): Promise<boolean>
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

/** Applies pending migrations to the database at `url`; resolves with their names. */
export async function migrateDatabase(url: string): Promise<string[]> {
  const db = new Database(url)
  try {
    return await migrate(db)
  } finally {
    await db.close()
  }
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
  const notifier = new Notifier(now)
  const ops = new Operations(policy, audit, bus, now)
  const strategies = new StrategyService(db, ops)

  if (config.BOOTSTRAP_ADMIN_KEY !== undefined) {
    await ensureBootstrapAdmin(db, keys, config.BOOTSTRAP_ADMIN_NAME, config.BOOTSTRAP_ADMIN_KEY)
    await policy.reload()
  }
  metrics.databaseUp.set(1)

  return {
    config,
    bus,
    policy,
    keys,
    authThrottle,
    audit,
    signals,
    history: new SignalHistory(db, policy),
    outbox: new Outbox(db, (published, retain) => signals.publish(published, retain), { now }),
    notifier,
    metrics,
    users: new UserService(db, ops),
    apiKeys: new KeyManagement(db, keys, ops),
    clientBindings: new ClientBindingService(db, ops),
    strategies,
    subscriptions: new SubscriptionService(db, ops, strategies),
    permissions: new PermissionService(db, ops),
    me: new MeService(db, keys, ops),
    auditLog: new AuditLogQuery(db, ops),
    jobs: new Jobs({ config, db, audit, keys, bus, notifier, metrics, redis, now }),
    redis,
    now,
    databaseReachable: () => db.ping(),
    async close() {
      clearInterval(policyPoll)
      await signals.settled()
      await audit.stop()
      await Promise.all([redis?.quit().catch(() => undefined), redisSubscriber?.quit().catch(() => undefined)])
      await db.close()
    }
  }
}
