import { Sequelize } from 'sequelize'
import { describeMysqlAndRedis } from '../helpers/services'

export { describeMysql, describeRedis, usingRedis } from '../helpers/services'
export { TcpProxy, type CutMode } from '../helpers/tcp-proxy'
/** The multi-node suites' name for `describeMysqlAndRedis`. */
export const describeCluster = describeMysqlAndRedis

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
