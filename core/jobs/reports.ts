import { Op, col, fn } from 'sequelize'
import { wallTimeToUtc } from '../signals/zoned-time'
import type { JobContext, JobDeps, JobResult } from './job'

interface CountRow { strategy_id: string, symbol: string, type: string, count: number | string }

export interface StrategyReport {
  strategy_id: string
  total: number
  by_symbol: Record<string, number>
  by_type: Record<string, number>
}

export interface ReportContent {
  period: 'daily'
  period_start: string
  period_end: string
  time_zone: string
  total: number
  strategies: StrategyReport[]
}

/** The calendar day before `now` in `timeZone`, as a UTC interval [start, end). */
export function previousDay(now: Date, timeZone: string): { start: Date, end: Date } {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now).split('-').map(Number)
  const [y, m, d] = parts
  return { start: wallTimeToUtc(timeZone, y, m, d - 1, 0, 0, 0, 0), end: wallTimeToUtc(timeZone, y, m, d, 0, 0, 0, 0) }
}

/**
 * Daily reports: for every user with active subscriptions, the signals issued on the
 * previous day (in TZ_DEFAULT) per subscribed strategy, symbol and type. Each report
 * is stored once per user and day (a re-run skips what exists) and published on
 * `users/<id>/reports`.
 */
export async function produceReports(deps: JobDeps, { now, progress }: JobContext): Promise<JobResult> {
  const { Subscription, Signal, Report } = deps.db.models
  const zone = deps.config.TZ_DEFAULT
  const { start, end } = previousDay(now, zone)
  const subscriptions = await Subscription.findAll({ where: { status: 'active' } })
  const strategyIds = [...new Set(subscriptions.map((s) => s.strategy_id))]
  const rows = strategyIds.length === 0
    ? []
    : await Signal.findAll({
      attributes: ['strategy_id', 'symbol', 'type', [fn('COUNT', col('id')), 'count']],
      where: { strategy_id: strategyIds, created_at: { [Op.gte]: start, [Op.lt]: end } },
      group: ['strategy_id', 'symbol', 'type'],
      raw: true
    }) as unknown as CountRow[]

  const byUser = new Map<number, typeof subscriptions>()
  for (const s of subscriptions) byUser.set(s.user_id, [...(byUser.get(s.user_id) ?? []), s])

  let stored = 0
  let skipped = 0
  for (const [userId, subs] of byUser) {
    const strategies: StrategyReport[] = subs.map((sub) => {
      const symbols = sub.symbolList()
      const report: StrategyReport = { strategy_id: sub.strategy_id, total: 0, by_symbol: {}, by_type: {} }
      for (const r of rows) {
        if (r.strategy_id !== sub.strategy_id || (symbols !== null && !symbols.includes(r.symbol))) continue
        const n = Number(r.count)
        report.total += n
        report.by_symbol[r.symbol] = (report.by_symbol[r.symbol] ?? 0) + n
        report.by_type[r.type] = (report.by_type[r.type] ?? 0) + n
      }
      return report
    })
    const content: ReportContent = {
      period: 'daily', period_start: start.toISOString(), period_end: end.toISOString(), time_zone: zone,
      total: strategies.reduce((sum, s) => sum + s.total, 0), strategies
    }
    const [report, created] = await Report.findOrCreate({
      where: { user_id: userId, period: 'daily', period_start: start },
      defaults: { user_id: userId, period: 'daily', period_start: start, period_end: end, content: JSON.stringify(content) }
    })
    if (!created) {
      skipped++
      continue
    }
    stored++
    await deps.notifier.report(userId, { id: report.id, ...content })
    progress(`reports stored: ${stored}`)
  }
  return {
    summary: `${stored} report(s) stored and published for ${start.toISOString()}..${end.toISOString()}, ${skipped} already existed`,
    counts: { stored, skipped }
  }
}
