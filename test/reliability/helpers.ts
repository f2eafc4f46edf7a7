import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'
import { Sequelize } from 'sequelize'
import { usingMysql } from '../helpers/database'

export const usingRedis = (process.env.REDIS_URL ?? '') !== ''
/** Suites that need MariaDB/MySQL; skipped on the SQLite run. */
export const describeMysql = usingMysql ? describe : describe.skip
/** Suites that need Redis; skipped when REDIS_URL is unset. */
export const describeRedis = usingRedis ? describe : describe.skip
/** Suites that need both (the multi-node ones). */
export const describeCluster = usingMysql && usingRedis ? describe : describe.skip

/** How a cut link behaves for new connections: refused at once, or accepted and never answered. */
export type CutMode = 'refuse' | 'hang'

/**
 * A TCP proxy on loopback between a node and MariaDB or Redis, so a test can take the
 * dependency away from one node without stopping the shared server. `cut` destroys every
 * open connection (both sides, so the server rolls back what was in flight) and then
 * refuses or blackholes new ones; `restore` forwards again.
 */
export class TcpProxy {
  private readonly server: Server
  private readonly links = new Set<Socket>()
  private mode: CutMode | 'open' = 'open'
  /** Called with each chunk a client sends, before it is forwarded; `true` cuts the link first. */
  cutWhen?: (chunk: Buffer) => boolean
  port = 0

  private constructor(private readonly targetHost: string, private readonly targetPort: number) {
    this.server = createServer((client) => this.accept(client))
  }

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetHost, targetPort)
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve))
    proxy.port = (proxy.server.address() as AddressInfo).port
    return proxy
  }

  /** `url` with its host and port replaced by this proxy's. */
  route(url: string): string {
    const routed = new URL(url)
    routed.hostname = '127.0.0.1'
    routed.port = String(this.port)
    return routed.toString()
  }

  private accept(client: Socket): void {
    client.on('error', () => undefined)
    if (this.mode === 'refuse') {
      client.resetAndDestroy()
      return
    }
    this.links.add(client)
    client.on('close', () => this.links.delete(client))
    if (this.mode === 'hang') return
    const upstream = connect(this.targetPort, this.targetHost)
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
    this.links.add(upstream)
    upstream.on('close', () => this.links.delete(upstream))
    upstream.on('data', (chunk) => client.write(chunk))
    client.on('data', (chunk) => {
      if (this.cutWhen?.(chunk) === true) {
        this.cutWhen = undefined
        this.cut('refuse')
        return
      }
      upstream.write(chunk)
    })
  }

  cut(mode: CutMode): void {
    this.mode = mode
    for (const socket of this.links) socket.destroy()
    this.links.clear()
  }

  restore(): void {
    this.mode = 'open'
    for (const socket of this.links) socket.destroy()
    this.links.clear()
  }

  async close(): Promise<void> {
    this.cut('refuse')
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

/** A direct (not proxied) connection to a scratch database, for checks behind the node's back. */
export function directDatabase(url: string): Sequelize {
  return url.startsWith('sqlite:')
    ? new Sequelize({ dialect: 'sqlite', storage: url.slice('sqlite:'.length), logging: false })
    : new Sequelize(url, { dialect: 'mysql', logging: false })
}

/** The seqs stored for `strategyId` and the strategy's `last_seq`, read directly. */
export async function storedSeqs(db: Sequelize, strategyId: string): Promise<{ seqs: number[], lastSeq: number, unpublished: number }> {
  const [rows] = await db.query('SELECT s.seq, o.signal_id AS waiting FROM signals s LEFT JOIN signal_outbox o ON o.signal_id = s.id WHERE s.strategy_id = ? ORDER BY s.seq', { replacements: [strategyId] }) as [Array<{ seq: number | string, waiting: unknown }>, unknown]
  const [[strategy]] = await db.query('SELECT last_seq FROM strategies WHERE id = ?', { replacements: [strategyId] }) as [Array<{ last_seq: number | string }>, unknown]
  return { seqs: rows.map((r) => Number(r.seq)), lastSeq: Number(strategy.last_seq), unpublished: rows.filter((r) => r.waiting !== null).length }
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_v, i) => from + i)
}

export interface Posted {
  status: number
  body: Record<string, unknown>
  headers: Headers
  ms: number
}

/** POST /api/v1/signals with `key`; never throws on an HTTP status. */
export async function postSignal(baseUrl: string, key: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Posted> {
  const started = Date.now()
  const res = await fetch(`${baseUrl}/api/v1/signals`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(20_000)
  })
  const text = await res.text()
  return { status: res.status, body: text === '' ? {} : JSON.parse(text) as Record<string, unknown>, headers: res.headers, ms: Date.now() - started }
}

export function signal(strategyId: string, symbol = 'AAPL', description = 'reliability'): Record<string, unknown> {
  return { strategy_id: strategyId, symbol, type: 'buy', execute_date: '2026-11-21T09:30:00+08:00', description }
}

/** The seqs of signals `messages` carried on `strategy/<strategyId>/…`, first receipt only. */
export function receivedSeqs(messages: Array<{ topic: string, payload: Buffer }>, strategyId: string): Set<number> {
  const seqs = new Set<number>()
  for (const m of messages) {
    if (m.topic.startsWith(`strategy/${strategyId}/`)) seqs.add((JSON.parse(m.payload.toString()) as { seq: number }).seq)
  }
  return seqs
}
