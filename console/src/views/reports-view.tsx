import type { ReactNode } from 'react'
import type { ApiClient } from '../api'
import { useI18n } from '../i18n/i18n'
import type { Report } from '../types'
import { ErrorNote, TableWrap, Time, usePagedList } from '../ui'

export function ReportsView({ api }: { api: ApiClient }): ReactNode {
  const { t } = useI18n()
  const reports = usePagedList((cursor) => api.get<{ data: Report[], next_cursor: string | null }>('/reports', { limit: 50, cursor }), [api])
  const rows = reports.data ?? []
  return (
    <section>
      <div className="section-head">
        <h2>{t('reports.title')}</h2>
        <button type="button" onClick={reports.reload}>{t('common.refresh')}</button>
      </div>
      <ErrorNote error={reports.error} />
      {rows.length === 0 && !reports.loading
        ? <p className="empty">{t('reports.none')}</p>
        : (
          <TableWrap>
            <table>
              <thead><tr><th>{t('reports.period')}</th><th>{t('history.from')}</th><th>{t('history.to')}</th><th>{t('common.created')}</th><th>{t('reports.content')}</th></tr></thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.id}>
                    <td>{r.period}</td><td><Time iso={r.period_start} /></td><td><Time iso={r.period_end} /></td><td><Time iso={r.created_at} /></td>
                    <td><details><summary>JSON</summary><pre>{JSON.stringify(r.content ?? {}, null, 2)}</pre></details></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
          )}
      {reports.more !== null && <button type="button" onClick={reports.more}>{t('common.more')}</button>}
    </section>
  )
}
