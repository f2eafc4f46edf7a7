import type { DecisionCache } from './decision-cache'
import proxyaddr from 'proxy-addr'
import { EventEmitter } from 'node:events'
import type { IncomingMessage } from 'node:http'
import type { Client } from 'aedes'
import type { Principal } from '../core/principal'
import type { TokenBucket } from './limits/token-bucket'

/** One authenticated MQTT connection on this node and what the hooks know about it. */
export interface Session {
  client: Client
  /** The user behind the CONNECT password, with `clientId` set. */
  principal: Principal
  ip: string | null
  /** authorizeForward's decisions (subscribe, per topic). */
  forward: DecisionCache
  /** authorizePublish's decisions (publish, per topic). */
  publish: DecisionCache
  publishes: TokenBucket
  /** Last time a rate-limit notice was sent, so a flood does not become a notice flood. */
  lastRateNoticeAt: number
  /** Set once the session is being closed for revocation: hooks stop acting for it. */
  closing: boolean
  /** The filters Aedes holds for this client: granted by a SUBSCRIBE or restored with a persistent session. */
  readonly filters: Set<string>
}

/** What a login knows of a new session; the registry adds the rest. */
export type NewSession = Omit<Session, 'filters'>

/** A client whose CONNECT carried an empty client id: Aedes assigned `client.id` itself. */
const serverAssignedIds = new WeakSet<Client>()

export function markServerAssignedId(client: Client): void {
  serverAssignedIds.add(client)
}

export function hasServerAssignedId(client: Client): boolean {
  return serverAssignedIds.has(client)
}

export type Trust = (address: string, hop: number) => boolean

/** TRUST_PROXY as proxy-addr's trust function, read the way Express reads its `trust proxy` setting. */
export function compileTrust(setting: boolean | number | string[]): Trust {
  if (setting === false) return () => false
  if (setting === true) return () => true
  if (typeof setting === 'number') return (_address, hop) => hop < setting
  return proxyaddr.compile(setting)
}

/**
 * The client's address: the peer of a TCP or TLS connection, or for MQTT over WebSocket
 * the address `X-Forwarded-For` gives through the proxies TRUST_PROXY names (nginx in
 * front of `/mqtt`), as the HTTP API reads it; without the IPv4-mapped prefix.
 */
export function remoteAddressOf(client: Client, trust: Trust = () => false): string | null {
  const req = client.req as IncomingMessage | undefined
  const address = req !== undefined && req.socket?.remoteAddress !== undefined
    ? proxyaddr(req, trust)
    : (client.conn as { remoteAddress?: string }).remoteAddress
  if (address === undefined) return null
  return address.startsWith('::ffff:') ? address.slice(7) : address
}

/**
 * Authenticated sessions on this node, by client and by user. The principal lives
 * here rather than on the Aedes client object, so nothing else can overwrite it.
 * Emits 'added' and 'removed' (once per session).
 */
export class SessionRegistry extends EventEmitter<{ added: [Session], removed: [Session] }> {
  private readonly byClient = new WeakMap<Client, Session>()
  private readonly byUser = new Map<number, Set<Session>>()

  add(fields: NewSession): Session {
    const session: Session = { ...fields, filters: new Set() }
    this.byClient.set(session.client, session)
    const set = this.byUser.get(session.principal.userId) ?? new Set<Session>()
    set.add(session)
    this.byUser.set(session.principal.userId, set)
    session.client.conn.once('close', () => this.remove(session.client))
    this.emit('added', session)
    return session
  }

  get(client: Client): Session | undefined {
    return this.byClient.get(client)
  }

  remove(client: Client): void {
    const session = this.byClient.get(client)
    if (session === undefined) return
    this.byClient.delete(client)
    const set = this.byUser.get(session.principal.userId)
    set?.delete(session)
    if (set?.size === 0) this.byUser.delete(session.principal.userId)
    this.emit('removed', session)
  }

  forUser(userId: number): Session[] {
    return [...(this.byUser.get(userId) ?? [])]
  }

  all(): Session[] {
    return [...this.byUser.values()].flatMap((set) => [...set])
  }

  /** Open sessions of `userId`, not counting one with `clientId` (a reconnect takes its place). */
  countForUser(userId: number, clientId: string): number {
    let count = 0
    for (const session of this.byUser.get(userId) ?? []) {
      if (session.client.id !== clientId && !session.client.closed) count++
    }
    return count
  }
}
