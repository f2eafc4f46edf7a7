import { loadConfig, type Env } from '../../core/config'
import type { Principal } from '../../core/principal'
import { startHub, type Hub } from '../../hub'
import { scratchDatabase, type ScratchDatabase } from './database'

/** A Signal Hub node on loopback with free ports and a scratch database; Redis when REDIS_URL is set. */
export interface TestHub extends Hub {
  scratch: ScratchDatabase
  /** Creates a user with a fresh API key. */
  user(name: string, role?: 'admin' | 'publisher' | 'subscriber'): Promise<TestUser>
  /** Creates a strategy owned by `owner`. */
  strategy(id: string, owner: TestUser, visibility?: 'public' | 'private'): Promise<void>
  /** Subscribes `user` to `strategyId`, optionally to some symbols only. */
  subscribe(user: TestUser, strategyId: string, symbols?: string[]): Promise<void>
  /** Stops the node and drops its database (unless `keepDatabase`). */
  shutdown(options?: { keepDatabase?: boolean }): Promise<void>
  baseUrl: string
  mqttUrl: string
  /** A JSON request to `/api/v1<path>` with `key` as the bearer (none when null); the body parsed. */
  api(method: string, path: string, key: string | null, body?: unknown): Promise<ApiResponse>
}

export interface ApiResponse {
  status: number
  body: any // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers
}

export interface TestUser {
  id: number
  name: string
  key: string
  keyId: number
  principal: Principal
}

export async function startTestHub(env: Env = {}, scratch?: ScratchDatabase): Promise<TestHub> {
  const db = scratch ?? await scratchDatabase()
  const config = loadConfig({
    DATABASE_URL: db.url,
    REDIS_URL: process.env.REDIS_URL,
    HOST: '127.0.0.1',
    HTTP_PORT: '0',
    MQTT_PORT: '0',
    LOG_LEVEL: 'silent',
    KEY_CACHE_MS: '5000',
    JOBS_ENABLED: 'false',
    REDIS_PREFIX: `sht${Math.random().toString(36).slice(2, 8)}:`,
    ...env
  })
  const hub = await startHub(config)
  const { models } = hub.core.db
  return {
    ...hub,
    scratch: db,
    baseUrl: `http://127.0.0.1:${hub.ports.http}`,
    mqttUrl: `mqtt://127.0.0.1:${hub.ports.mqtt}`,
    async user(name, role = 'subscriber') {
      const user = await models.User.create({ name, contact: null, role })
      const issued = await hub.core.keys.create(user.id)
      return { id: user.id, name, key: issued.key, keyId: issued.id, principal: { userId: user.id, userName: name, role, keyId: issued.id, keyPrefix: issued.prefix } }
    },
    async strategy(id, owner, visibility = 'public') {
      await models.Strategy.create({ id, name: id, description: '', owner_id: owner.id, visibility })
      hub.core.bus.announce({ kind: 'policy' })
      await hub.core.policy.reload()
    },
    async subscribe(user, strategyId, symbols) {
      await models.Subscription.create({ user_id: user.id, strategy_id: strategyId, symbols: symbols === undefined ? null : JSON.stringify(symbols) })
      hub.core.bus.announce({ kind: 'policy' })
      await hub.core.policy.reload()
    },
    async api(method, path, key, body) {
      const headers: Record<string, string> = {}
      if (key !== null) headers.authorization = `Bearer ${key}`
      if (body !== undefined) headers['content-type'] = 'application/json'
      const res = await fetch(`http://127.0.0.1:${hub.ports.http}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
      const text = await res.text()
      return { status: res.status, body: text === '' ? null : JSON.parse(text) as unknown, headers: res.headers }
    },
    async shutdown(options = {}) {
      await hub.stop()
      if (options.keepDatabase !== true) await db.drop()
    }
  }
}
