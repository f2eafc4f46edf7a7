import { Op, fn, col, literal, type WhereOptions } from 'sequelize'
import type { Database } from '../../models/database'
import type { Signal } from '../../models/signal.model'
import { AppError } from '../errors'
import type { PolicyStore } from '../policy/policy-store'
import type { Principal } from '../principal'
import { toSignalView, type SignalView } from './signal-service'
import { wallTimeToUtc, zoneOffsetMs } from './zoned-time'

/** What a reader asks for; every field narrows. Times are UTC instants; `from` inclusive, `to` exclusive, on `created_at`. */
export interface HistoryFilter {
  strategyId?: string
  symbol?: string
  type?: string
  from?: Date
  to?: Date
  /** Only signals with a larger `seq` (meaningful with `strategyId`). */
  afterSeq?: number
}

/** A place in the (strategy_id, seq) order: the last signal a page returned. */
export interface HistoryPosition {
  strategyId: string
  seq: number
}

export interface HistoryPage {
  data: SignalView[]
  /** Where the next page starts, or null when this page reached the end. */
  next: HistoryPosition | null
}

export interface DayCount {
  /** The calendar day in the configured zone, `YYYY-MM-DD`. */
  day: string
  count: number
}

export interface SignalStats {
  total: number
  by_day: DayCount[]
  by_symbol: Array<{ symbol: string, count: number }>
  by_type: Array<{ type: string, count: number }>
}

export const MAX_HISTORY_LIMIT = 500
export const MAX_STATS_DAYS = 366

/** Opaque cursor text of a position: base64url of `[strategy_id, seq]`. */
export function encodeCursor(position: HistoryPosition): string {
  return Buffer.from(JSON.stringify([position.strategyId, position.seq])).toString('base64url')
}

/** The position in a cursor, or null when the text is not one of ours. */
export function decodeCursor(text: string): HistoryPosition | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && value[0] !== '' && Number.isSafeInteger(value[1]) && (value[1] as number) >= 0) {
      return { strategyId: value[0], seq: value[1] as number }
    }
  } catch {
    // not base64url JSON: fall through
  }
  return null
}

/** The calendar date (`YYYY-MM-DD`) of an instant in `timeZone`. */
export function dayInZone(at: Date, timeZone: string): string {
  return new Date(at.getTime() + zoneOffsetMs(timeZone, at.getTime())).toISOString().slice(0, 10)
}

/** Midnights (UTC instants) of each calendar day in `timeZone` touched by [from, to), plus the midnight after the last. */
export function dayBoundaries(from: Date, to: Date, timeZone: string): { days: string[], starts: Date[] } {
  const [y, m, d] = dayInZone(from, timeZone).split('-').map(Number)
  const days: string[] = []
  const starts: Date[] = []
  for (let i = 0; ; i++) {
    const start = wallTimeToUtc(timeZone, y, m, d + i, 0, 0, 0, 0)
    if (start.getTime() >= to.getTime() && i > 0) {
      starts.push(start)
      break
    }
    days.push(new Date(Date.UTC(y, m - 1, d + i)).toISOString().slice(0, 10))
    starts.push(start)
    if (days.length > MAX_STATS_DAYS) throw new AppError('validation_failed', `a range of at most ${MAX_STATS_DAYS} days`, { issues: [{ path: 'to', message: `at most ${MAX_STATS_DAYS} days after from` }] })
  }
  return { days, starts }
}

/**
 * Reading stored signals, for every door that reads: the REST history, the SSE catch-up,
 * stats, reports. Every query is limited to what the principal may read under the current
 * policy: whole strategies it may read, and on symbol-limited subscriptions only the
 * symbols the policy allows (`can(p, 'read', 'strategy/<id>/<symbol>')`).
 */
export class SignalHistory {
  constructor(private readonly db: Database, private readonly policy: PolicyStore) {}

  /**
   * The where clause of everything `principal` may read within `filter`'s strategy and
   * symbol, or null when that is nothing. A named strategy that does not exist is
   * not_found; one the caller may not read at all is forbidden.
   */
  async readableScope(principal: Principal, filter: Pick<HistoryFilter, 'strategyId' | 'symbol'>): Promise<WhereOptions<Signal> | null> {
    const policy = this.policy.current
    const { strategyId, symbol } = filter
    if (strategyId !== undefined && !policy.strategyExists(strategyId)) throw new AppError('not_found', `strategy ${strategyId} not found`)
    const readable = policy.readableStrategies(principal)
    const bySymbol = symbol === undefined ? {} : { symbol }
    if (readable === 'all') return { ...(strategyId === undefined ? {} : { strategy_id: strategyId }), ...bySymbol }

    const candidates = strategyId === undefined ? readable : [strategyId]
    const whole: string[] = []
    const partial: string[] = []
    for (const id of candidates) {
      if (policy.can(principal, 'read', `strategy/${id}/${symbol ?? '#'}`)) whole.push(id)
      else if (symbol === undefined) partial.push(id)
    }
    const parts: Array<WhereOptions<Signal>> = []
    if (whole.length > 0) parts.push({ strategy_id: whole, ...bySymbol })
    for (const [id, symbols] of await this.readableSymbols(principal, partial)) parts.push({ strategy_id: id, symbol: symbols })
    if (parts.length === 0) {
      if (strategyId !== undefined) throw new AppError('forbidden', `you may not read strategy ${strategyId}${symbol === undefined ? '' : ` symbol ${symbol}`}`)
      return null
    }
    return parts.length === 1 ? parts[0] : { [Op.or]: parts }
  }

  /** For strategies readable only in part: the stored symbols of each the policy lets `principal` read. */
  private async readableSymbols(principal: Principal, strategyIds: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>()
    if (strategyIds.length === 0) return out
    const rows = await this.db.models.Signal.findAll({
      attributes: [[fn('DISTINCT', col('strategy_id')), 'strategy_id'], 'symbol'],
      where: { strategy_id: strategyIds },
      raw: true
    }) as unknown as Array<{ strategy_id: string, symbol: string }>
    const policy = this.policy.current
    for (const row of rows) {
      if (!policy.can(principal, 'read', `strategy/${row.strategy_id}/${row.symbol}`)) continue
      out.set(row.strategy_id, [...(out.get(row.strategy_id) ?? []), row.symbol])
    }
    return out
  }

  private static filterWhere(filter: HistoryFilter): Array<WhereOptions<Signal>> {
    const where: Array<WhereOptions<Signal>> = []
    if (filter.type !== undefined) where.push({ type: filter.type })
    if (filter.from !== undefined) where.push({ created_at: { [Op.gte]: filter.from } })
    if (filter.to !== undefined) where.push({ created_at: { [Op.lt]: filter.to } })
    if (filter.afterSeq !== undefined) where.push({ seq: { [Op.gt]: filter.afterSeq } })
    return where
  }

  /** One page in (strategy_id, seq) order, starting after `after`. */
  async page(principal: Principal, filter: HistoryFilter, options: { limit: number, after?: HistoryPosition }): Promise<HistoryPage> {
    const scope = await this.readableScope(principal, filter)
    if (scope === null) return { data: [], next: null }
    const where: Array<WhereOptions<Signal>> = [scope, ...SignalHistory.filterWhere(filter)]
    const after = options.after
    if (after !== undefined) {
      where.push({ [Op.or]: [{ strategy_id: { [Op.gt]: after.strategyId } }, { strategy_id: after.strategyId, seq: { [Op.gt]: after.seq } }] })
    }
    const limit = Math.min(Math.max(1, options.limit), MAX_HISTORY_LIMIT)
    const rows = await this.db.models.Signal.findAll({ where: { [Op.and]: where }, order: [['strategy_id', 'ASC'], ['seq', 'ASC']], limit: limit + 1 })
    const data = rows.slice(0, limit).map(toSignalView)
    const last = data[data.length - 1]
    return { data, next: rows.length > limit ? { strategyId: last.strategy_id, seq: last.seq } : null }
  }

  /** Signals stored after signal `afterId` (in id order, i.e. storage order), for catching a stream up. */
  async since(principal: Principal, filter: HistoryFilter, options: { afterId: number, limit: number }): Promise<SignalView[]> {
    const scope = await this.readableScope(principal, filter)
    if (scope === null) return []
    const where = [scope, ...SignalHistory.filterWhere(filter), { id: { [Op.gt]: options.afterId } }]
    const rows = await this.db.models.Signal.findAll({ where: { [Op.and]: where }, order: [['id', 'ASC']], limit: Math.min(options.limit, MAX_HISTORY_LIMIT) })
    return rows.map(toSignalView)
  }

  /** The id of signal `seq` of `strategyId`, if it is stored. */
  async idOf(position: HistoryPosition): Promise<number | null> {
    const row = await this.db.models.Signal.findOne({ where: { strategy_id: position.strategyId, seq: position.seq }, attributes: ['id'] })
    return row === null ? null : row.id
  }

  /** Counts per calendar day (in `timeZone`), symbol and type of the signals `principal` may read in [from, to). */
  async stats(principal: Principal, filter: HistoryFilter & { from: Date, to: Date }, timeZone: string): Promise<SignalStats> {
    const { days, starts } = dayBoundaries(filter.from, filter.to, timeZone)
    const empty: SignalStats = { total: 0, by_day: days.map((day) => ({ day, count: 0 })), by_symbol: [], by_type: [] }
    const scope = await this.readableScope(principal, filter)
    if (scope === null) return empty
    const escape = (d: Date): string => this.db.sequelize.escape(d)
    // Day buckets as a CASE over the zone's midnights: portable across SQLite and MySQL, and right across DST.
    const whens = starts.slice(1, -1).map((start, i) => `WHEN created_at < ${escape(start)} THEN ${i}`).join(' ')
    const bucket = whens === '' ? '0' : `CASE ${whens} ELSE ${days.length - 1} END`
    const rows = await this.db.models.Signal.findAll({
      attributes: [[literal(bucket), 'bucket'], 'symbol', 'type', [fn('COUNT', col('id')), 'n']],
      where: { [Op.and]: [scope, ...SignalHistory.filterWhere(filter)] },
      group: [literal(bucket) as unknown as string, 'symbol', 'type'],
      raw: true
    }) as unknown as Array<{ bucket: number | string, symbol: string, type: string, n: number | string }>
    const bySymbol = new Map<string, number>()
    const byType = new Map<string, number>()
    for (const row of rows) {
      const n = Number(row.n)
      empty.total += n
      empty.by_day[Number(row.bucket)].count += n
      bySymbol.set(row.symbol, (bySymbol.get(row.symbol) ?? 0) + n)
      byType.set(row.type, (byType.get(row.type) ?? 0) + n)
    }
    const sorted = (m: Map<string, number>): Array<[string, number]> => [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    empty.by_symbol = sorted(bySymbol).map(([symbol, count]) => ({ symbol, count }))
    empty.by_type = sorted(byType).map(([type, count]) => ({ type, count }))
    return empty
  }
}
