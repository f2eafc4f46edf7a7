import { useState, type FormEvent, type ReactNode } from 'react'
import { readAll, type ApiClient, type Query } from '../api'
import { useI18n } from '../i18n/i18n'
import { formatTime, localInputToIso } from '../time'
import type { Page, Signal, SignalStats, Strategy } from '../types'
import { Badge, ErrorNote, Field, TableWrap, Time, useAsync } from '../ui'
import { BarChart } from './bar-chart'
import { typeTone } from './feed-view'

const PAGE_SIZE = 25

interface Filters {
  strategy_id: string
  symbol: string
  type: string
  from: string
  to: string
}

const EMPTY: Filters = { strategy_id: '', symbol: '', type: '', from: '', to: '' }

function toQuery(f: Filters): Query {
  return { strategy_id: f.strategy_id, symbol: f.symbol.trim(), type: f.type.trim(), from: localInputToIso(f.from), to: localInputToIso(f.to) }
}

function Stats({ api, filters }: { api: ApiClient, filters: Filters }): ReactNode {
  const { t, locale } = useI18n()
  const stats = useAsync(() => api.get<SignalStats>('/stats', toQuery(filters)), [api, filters])
  if (stats.error !== null) return <ErrorNote error={stats.error} />
  const s = stats.data
  if (s === null) return <p>{t('common.loading')}</p>
  return (
    <div className="card" data-testid="stats">
      <h3>{t('stats.title')}</h3>
      <p className="muted">{t('stats.total', { total: s.total, from: formatTime(s.from, locale), to: formatTime(s.to, locale) })}</p>
      {s.total === 0
        ? <p className="empty">{t('stats.none')}</p>
        : (
          <div className="charts">
            <BarChart title={`${t('stats.byDay')} (${s.time_zone})`} bars={s.by_day.map((d) => ({ label: d.day.slice(5), value: d.count }))} />
            <BarChart title={t('stats.byType')} bars={s.by_type.map((d) => ({ label: d.type, value: d.count }))} />
          </div>
          )}
    </div>
  )
}

export function HistoryView({ api }: { api: ApiClient }): ReactNode {
  const { t } = useI18n()
  const strategies = useAsync(() => readAll<Strategy>(api, '/strategies'), [api])
  const [draft, setDraft] = useState<Filters>(EMPTY)
  const [applied, setApplied] = useState<Filters>(EMPTY)
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined])
  const page = useAsync(() => api.get<Page<Signal>>('/signals', { ...toQuery(applied), limit: PAGE_SIZE, cursor: cursors[cursors.length - 1] }), [api, applied, cursors])

  const set = (name: keyof Filters) => (value: string) => setDraft((d) => ({ ...d, [name]: value }))
  const apply = (event: FormEvent): void => {
    event.preventDefault()
    setApplied(draft)
    setCursors([undefined])
  }
  const reset = (): void => {
    setDraft(EMPTY)
    setApplied(EMPTY)
    setCursors([undefined])
  }
  const rows = page.data?.data ?? []
  const next = page.data?.next_cursor ?? null

  return (
    <section>
      <h2>{t('history.title')}</h2>
      <form className="card filters" onSubmit={apply} noValidate>
        <Field label={t('signal.strategy')} name="strategy_id">
          <select value={draft.strategy_id} onChange={(e) => set('strategy_id')(e.target.value)}>
            <option value="">{t('history.any')}</option>
            {(strategies.data ?? []).map((s) => <option key={s.id} value={s.id}>{s.id}</option>)}
          </select>
        </Field>
        <Field label={t('signal.symbol')} name="symbol"><input value={draft.symbol} onChange={(e) => set('symbol')(e.target.value)} /></Field>
        <Field label={t('signal.type')} name="type"><input value={draft.type} onChange={(e) => set('type')(e.target.value)} /></Field>
        <Field label={t('history.from')} name="from"><input type="datetime-local" value={draft.from} onChange={(e) => set('from')(e.target.value)} /></Field>
        <Field label={t('history.to')} name="to"><input type="datetime-local" value={draft.to} onChange={(e) => set('to')(e.target.value)} /></Field>
        <div className="form-actions">
          <button type="submit" className="primary">{t('history.filter')}</button>
          <button type="button" onClick={reset}>{t('history.reset')}</button>
        </div>
      </form>
      <Stats api={api} filters={applied} />
      <ErrorNote error={page.error} />
      {rows.length === 0 && !page.loading
        ? <p className="empty">{t('history.empty')}</p>
        : (
          <TableWrap>
            <table data-testid="history">
              <thead>
                <tr>
                  <th>{t('signal.strategy')}</th><th>{t('signal.seq')}</th><th>{t('signal.symbol')}</th><th>{t('signal.type')}</th>
                  <th>{t('signal.executeDate')}</th><th>{t('signal.description')}</th><th>{t('signal.createdAt')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((s) => (
                  <tr key={s.id}>
                    <td>{s.strategy_id}</td><td className="num">{s.seq}</td><td>{s.symbol}</td><td><Badge tone={typeTone(s.type)}>{s.type}</Badge></td>
                    <td><Time iso={s.execute_date} /></td><td>{s.description}</td><td><Time iso={s.created_at} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
          )}
      <div className="pager">
        <button type="button" disabled={cursors.length === 1} onClick={() => setCursors([undefined])}>{t('history.first')}</button>
        <span className="muted">{t('history.page', { n: cursors.length })}</span>
        <button type="button" disabled={next === null} onClick={() => { if (next !== null) setCursors((c) => [...c, next]) }}>{t('history.next')}</button>
      </div>
    </section>
  )
}
