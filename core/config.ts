import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { validate as isValidCron } from 'node-cron'
import { z } from 'zod'

/**
 * Signal Hub's whole configuration: one typed tree, read from the environment once
 * at start. Each entry names its variable, its default and what it means; the README
 * lists the same table. A bad value stops the process with one line naming the
 * variable and what is allowed (see `ConfigError`).
 *
 * A secret may also be given as a file: `BOOTSTRAP_ADMIN_KEY_FILE=/run/secrets/admin`
 * is read in place of `BOOTSTRAP_ADMIN_KEY` (Docker and Kubernetes secrets).
 */

const port = z.coerce.number().int().min(0).max(65535)
const positiveInt = z.coerce.number().int().positive()
const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes')
const list = z.string().transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0))

const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}, 'an IANA time zone such as Asia/Shanghai or UTC')

const databaseUrl = z.string().refine(
  (url) => url === 'sqlite::memory:' || /^sqlite:.+/.test(url) || /^(mysql|mariadb):\/\/[^/]+\/[^/?]+/.test(url),
  'sqlite:<file>, sqlite::memory: or mysql://user:password@host:port/database'
)

const redisUrl = z.string().refine((url) => /^rediss?:\/\/.+/.test(url), 'redis://[user:password@]host:port[/db]')

const CRON = z.string().refine((v) => v === 'off' || isValidCron(v), 'a cron expression such as "15 3 * * *", or off')

/** An IPv4/IPv6 address, optionally with a /prefix length. */
const cidr = z.string().refine((v) => {
  const [address, bits, extra] = v.split('/')
  const family = isIP(address)
  if (family === 0 || extra !== undefined) return false
  if (bits === undefined) return true
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)
}, 'IP addresses or CIDR blocks such as 10.0.0.0/8')

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal'])
const trustProxy = z.string().transform((v, ctx): boolean | number | string[] => {
  const text = v.trim()
  if (text === 'false') return false
  if (/^\d{1,2}$/.test(text)) return Number(text)
  const entries = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
  if (entries.length === 0 || !entries.every((e) => PROXY_NAMES.has(e) || cidr.safeParse(e).success)) {
    ctx.addIssue({ code: 'custom', message: 'false, a hop count, or loopback, linklocal, uniquelocal, IPs and CIDR blocks (comma-separated)' })
    return z.NEVER
  }
  return entries
})

const signalType = z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'lower-case words of at most 32 characters')

export const configSchema = z.object({
  /** Database: `sqlite:<file>`, `sqlite::memory:` or `mysql://user:password@host:port/db`. */
  DATABASE_URL: databaseUrl.default('sqlite:./data/signalhub.sqlite'),
  /** Largest number of pooled database connections per process. */
  DATABASE_POOL_MAX: positiveInt.max(200).default(10),
  /** Redis for persistent sessions, fan-out between nodes, rate limits and job locks; unset = in-process. */
  REDIS_URL: redisUrl.optional(),
  /** Address the HTTP and MQTT listeners bind to. */
  HOST: z.string().min(1).default('0.0.0.0'),
  /** HTTP port (REST, SSE, MQTT over WebSocket at /mqtt, console); 0 picks a free port. */
  HTTP_PORT: port.default(8080),
  /** MQTT over TCP; 0 picks a free port. */
  MQTT_PORT: port.default(1883),
  /** MQTT over TLS; opened only when MQTT_TLS_CERT and MQTT_TLS_KEY are set. */
  MQTT_TLS_PORT: port.default(8883),
  /** PEM certificate chain for MQTT over TLS. */
  MQTT_TLS_CERT: z.string().min(1).optional(),
  /** PEM private key for MQTT over TLS. */
  MQTT_TLS_KEY: z.string().min(1).optional(),
  /** Largest MQTT packet accepted, in bytes. */
  MQTT_MAX_PACKET_BYTES: positiveInt.max(268435455).default(65536),
  /** Deepest MQTT topic accepted, in levels. */
  MQTT_MAX_TOPIC_LEVELS: positiveInt.max(100).default(8),
  /** Publishes a single MQTT client may send per second (token bucket, burst of the same size). */
  MQTT_PUBLISH_RATE: positiveInt.default(200),
  /** Concurrent MQTT connections allowed per user. */
  MQTT_MAX_CONNECTIONS_PER_USER: positiveInt.default(20),
  /** QoS 1/2 messages queued per offline persistent session before the oldest are dropped (Redis persistence). */
  MQTT_QUEUE_LIMIT: positiveInt.default(1000),
  /** Seconds a queued QoS 1/2 message is kept for an offline session (Redis persistence). */
  MQTT_PACKET_TTL_SECONDS: positiveInt.default(86400),
  /** Largest offline queue delivered to one session on reconnect (Redis persistence). */
  MQTT_MAX_SESSION_DELIVERY: positiveInt.default(1000),
  /** Failed logins (REST or MQTT) from one address within AUTH_FAIL_WINDOW_SECONDS before it is locked out. */
  AUTH_FAIL_LIMIT: positiveInt.default(10),
  /** Window, and lock-out duration, for AUTH_FAIL_LIMIT, in seconds. */
  AUTH_FAIL_WINDOW_SECONDS: positiveInt.default(60),
  /** Failed logins on one key prefix, from all addresses together, within AUTH_FAIL_WINDOW_SECONDS before that prefix is locked out (even with its correct key). */
  AUTH_LOCKOUT_PREFIX_LIMIT: positiveInt.default(30),
  /** REST requests per key per second (token bucket). */
  RATE_LIMIT_PER_SECOND: positiveInt.default(100),
  /** Log level: error, warn, info, http, debug or silent. */
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'debug', 'silent']).default('info'),
  /** Also write JSON logs to this file (besides stdout). */
  LOG_FILE: z.string().min(1).optional(),
  /** Zone for times given without an offset and for report periods. */
  TZ_DEFAULT: timeZone.default('Asia/Shanghai'),
  /** Signal types accepted, comma-separated. */
  SIGNAL_TYPES: list.pipe(z.array(signalType).min(1)).default(['buy', 'sell', 'open', 'close', 'hold']),
  /** Age in days after which the rotate-keys job marks a key expiring. */
  KEY_MAX_AGE_DAYS: positiveInt.default(90),
  /** Hours a rotated or expiring key keeps working. */
  KEY_GRACE_HOURS: z.coerce.number().min(0).max(24 * 90).default(24),
  /** Milliseconds a verified key is cached on a node (a revoke on the node clears it at once). */
  KEY_CACHE_MS: z.coerce.number().int().min(0).max(60000).default(5000),
  /** Days audit log rows are kept. */
  LOG_RETENTION_DAYS: positiveInt.default(90),
  /** Run the scheduled jobs on this node (with several nodes and Redis, each run happens on one node only). */
  JOBS_ENABLED: bool.default(true),
  /** Schedule of the audit-log cleanup job (cron, in TZ_DEFAULT), or off. */
  JOB_CLEANUP_LOGS_CRON: CRON.default('15 3 * * *'),
  /** Schedule of the subscriber reports job; each run reports on the previous day. */
  JOB_REPORTS_CRON: CRON.default('10 0 * * *'),
  /** Schedule of the key-rotation job. */
  JOB_ROTATE_KEYS_CRON: CRON.default('0 * * * *'),
  /** Schedule of the database backup job, or off. */
  JOB_BACKUP_CRON: CRON.default('off'),
  /** Folder the backup job writes its archives to. */
  BACKUP_DIR: z.string().min(1).default('./backups'),
  /** Archives kept by the backup job; older ones are deleted. */
  BACKUP_KEEP: positiveInt.default(14),
  /** Redis in backups: auto (snapshot when REDIS_URL is set and redis-cli is installed; a failure is a warning), required or off. */
  BACKUP_REDIS: z.enum(['auto', 'required', 'off']).default('auto'),
  /** How SQLite is copied: auto (the sqlite3 command when installed, else Node's sqlite3 module), cli or node. */
  BACKUP_SQLITE_TOOL: z.enum(['auto', 'cli', 'node']).default('auto'),
  /** An admin key (≥ 32 characters) seeded on first start. */
  BOOTSTRAP_ADMIN_KEY: z.string().min(32, 'at least 32 characters').optional(),
  /** Name of the admin seeded with BOOTSTRAP_ADMIN_KEY. */
  BOOTSTRAP_ADMIN_NAME: z.string().min(1).max(100).default('admin'),
  /** Origins allowed by CORS, comma-separated; empty = same origin only. */
  CORS_ORIGINS: list.default([]),
  /** Bearer token required on /metrics; unset = open. */
  METRICS_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  /** Addresses allowed to read /metrics, comma-separated IPs or CIDR blocks (10.0.0.0/8, ::1); empty = any. Checked as well as METRICS_TOKEN. */
  METRICS_ALLOW: list.pipe(z.array(cidr)).default([]),
  /** Proxies whose X-Forwarded-For / X-Forwarded-Proto the HTTP door believes (Express "trust proxy"): false, a hop count, or comma-separated loopback, linklocal, uniquelocal, IPs and CIDR blocks. */
  TRUST_PROXY: trustProxy.default(['loopback']),
  /** PEM certificate chain (text or file path); with HTTPS_KEY, HTTP_PORT serves HTTPS (and WSS at /mqtt) instead of HTTP. */
  HTTPS_CERT: z.string().min(1).optional(),
  /** PEM private key (text or file path) for HTTPS_CERT. */
  HTTPS_KEY: z.string().min(1).optional(),
  /** Serve the interactive API docs at /docs. */
  DOCS_ENABLED: bool.default(true),
  /** Prefix of Redis keys and channels, so several deployments can share one Redis. */
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{1,32}$/, 'letters, digits, ":", "_" or "-"').default('signalhub:')
})

export type Config = z.infer<typeof configSchema>
export type Env = Record<string, string | undefined>

/** A configuration value that cannot be used; its message is one line fit for stderr. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

const SECRET_FILE_VARIABLES = ['BOOTSTRAP_ADMIN_KEY', 'METRICS_TOKEN', 'DATABASE_URL', 'REDIS_URL', 'HTTPS_KEY'] as const

function readSecretFiles(env: Env): Env {
  const merged: Env = { ...env }
  for (const name of SECRET_FILE_VARIABLES) {
    const file = env[`${name}_FILE`]
    if (file === undefined || file === '' || (merged[name] ?? '') !== '') continue
    try {
      merged[name] = readFileSync(file, 'utf8').trim()
    } catch {
      throw new ConfigError(`${name}_FILE: cannot read ${file}`)
    }
  }
  return merged
}

function withoutEmpty(env: Env): Env {
  const out: Env = {}
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key]
    if (value !== undefined && value !== '') out[key] = value
  }
  return out
}

/** Parses and validates the configuration; throws `ConfigError` naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const result = configSchema.safeParse(withoutEmpty(readSecretFiles(env)))
  if (!result.success) {
    const issue = result.error.issues[0]
    const name = String(issue.path[0] ?? 'config')
    const shown = (SECRET_FILE_VARIABLES as readonly string[]).includes(name) ? 'value hidden' : `got ${JSON.stringify(env[name] ?? '')}`
    throw new ConfigError(`${name}: ${issue.message} (${shown})`)
  }
  const config = result.data
  if ((config.MQTT_TLS_CERT === undefined) !== (config.MQTT_TLS_KEY === undefined)) {
    throw new ConfigError('MQTT_TLS_CERT: MQTT_TLS_CERT and MQTT_TLS_KEY must be set together')
  }
  if ((config.HTTPS_CERT === undefined) !== (config.HTTPS_KEY === undefined)) {
    throw new ConfigError('HTTPS_CERT: HTTPS_CERT and HTTPS_KEY must be set together')
  }
  return config
}
