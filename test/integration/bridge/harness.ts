import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHttpApp, type HttpApp } from '../../../bridge/app'
import { loadConfig, type Env } from '../../../core/config'
import { createCore, type Core } from '../../../core/core'
import type { Principal } from '../../../core/principal'
import { scratchDatabase, type ScratchDatabase } from '../../helpers/database'

export interface BridgeUser {
  id: number
  name: string
  key: string
  keyId: number
  principal: Principal
}

export interface PublishedMessage {
  topic: string
  payload: string
  retain: boolean
}

/** The core and the HTTP door on a free loopback port over a scratch database; no MQTT broker. */
export interface TestBridge {
  core: Core
  http: HttpApp
  server: Server
  scratch: ScratchDatabase
  baseUrl: string
  /** What the core handed to its message sink (the broker's place), in order. */
  published: PublishedMessage[]
  user(name: string, role?: 'admin' | 'publisher' | 'subscriber'): Promise<BridgeUser>
  strategy(id: string, owner: BridgeUser, visibility?: 'public' | 'private'): Promise<void>
  subscribe(user: BridgeUser, strategyId: string, symbols?: string[]): Promise<void>
  shutdown(options?: { keepDatabase?: boolean }): Promise<void>
}

export async function startBridge(env: Env = {}, scratch?: ScratchDatabase): Promise<TestBridge> {
  const db = scratch ?? await scratchDatabase()
  const config = loadConfig({
    DATABASE_URL: db.url,
    REDIS_URL: process.env.REDIS_URL,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    REDIS_PREFIX: `shb${Math.random().toString(36).slice(2, 8)}:`,
    ...env
  })
  const core = await createCore(config)
  const published: PublishedMessage[] = []
  core.signals.setSink({
    publish: async (topic, payload, options) => { published.push({ topic, payload: payload.toString('utf8'), retain: options.retain }) }
  })
  const http = createHttpApp(core)
  const server = createServer(http.classes, http.listener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const { models } = core.db
  const reloadPolicy = async (): Promise<void> => {
    core.bus.announce({ kind: 'policy' })
    await core.policy.reload()
  }
  return {
    core, http, server, scratch: db, published,
    baseUrl: `http://127.0.0.1:${port}`,
    async user(name, role = 'subscriber') {
      const user = await models.User.create({ name, contact: null, role })
      const issued = await core.keys.create(user.id)
      return { id: user.id, name, key: issued.key, keyId: issued.id, principal: { userId: user.id, userName: name, role, keyId: issued.id, keyPrefix: issued.prefix } }
    },
    async strategy(id, owner, visibility = 'public') {
      await models.Strategy.create({ id, name: id, description: '', owner_id: owner.id, visibility })
      await reloadPolicy()
    },
    async subscribe(user, strategyId, symbols) {
      await models.Subscription.create({ user_id: user.id, strategy_id: strategyId, symbols: symbols === undefined ? null : JSON.stringify(symbols) })
      await reloadPolicy()
    },
    async shutdown(options = {}) {
      http.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await core.close()
      if (options.keepDatabase !== true) await db.drop()
    }
  }
}

/** A decoded JSON response body; tests read whichever fields they assert on. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonBody = any

/** fetch against the bridge with a key and JSON. */
export async function call(bridge: TestBridge, method: string, path: string, options: { key?: string, body?: unknown, headers?: Record<string, string> } = {}): Promise<{ status: number, headers: Headers, body: JsonBody }> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`
  let body: string | undefined
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
    headers['content-type'] ??= 'application/json'
  }
  const res = await fetch(`${bridge.baseUrl}${path}`, { method, headers, body })
  const text = await res.text()
  let parsed: unknown = text
  if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') parsed = JSON.parse(text)
  return { status: res.status, headers: res.headers, body: parsed }
}

/** How many signals are stored. */
export async function storedSignals(bridge: TestBridge): Promise<number> {
  return bridge.core.db.models.Signal.count()
}
