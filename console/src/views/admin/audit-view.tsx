import { useState, type FormEvent, type ReactNode } from 'react'
import type { ApiClient } from '../../api'
import { useI18n } from '../../i18n/i18n'
import { localInputToIso } from '../../time'
import type { AuditEntry } from '../../types'
import { Badge, ErrorNote, Field, TableWrap, Time, usePagedList } from '../../ui'

interface Filters {
  user_id: string
  action: string
  result: string
  from: string
  to: string
}

const EMPTY: Filters = { user_id: '', action: '', result: '', from: '', to: '' }

/** The audit table, newest first, filtered by user, action, result and time. */
export function AuditView({ api }: { api: ApiClient }): ReactNode {
  const { t } = useI18n()
  const [draft, setDraft] = useState<Filters>(EMPTY)
  const [applied, setApplied] = useState<Filters>(EMPTY)
  const entries = usePagedList((cursor) => api.get<{ data: AuditEntry[], next_cursor: string | null }>('/audit-logs', {
    user_id: applied.user_id.trim(), action: applied.action.trim(), result: applied.result,
    from: localInputToIso(applied.from), to: localInputToIso(applied.to), limit: 50, cursor
  }), [api, applied])
  const apply = (event: FormEvent): void => {
    event.preventDefault()
    setApplied(draft)
  }
  const rows = entries.data ?? []
  return (
    <section>
      <h2>{t('audit.title')}</h2>
      <form className="card filters" onSubmit={apply} noValidate>
        <Field label={t('audit.user')}><input inputMode="numeric" value={draft.user_id} onChange={(e) => setDraft({ ...draft, user_id: e.target.value })} /></Field>
        <Field label={t('audit.action')}><input value={draft.action} placeholder="http.request" onChange={(e) => setDraft({ ...draft, action: e.target.value })} /></Field>
        <Field label={t('audit.result')}>
          <select value={draft.result} onChange={(e) => setDraft({ ...draft, result: e.target.value })}>
            <option value="">{t('history.any')}</option><option>ok</option><option>denied</option><option>failed</option>
          </select>
        </Field>
        <Field label={t('history.from')}><input type="datetime-local" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} /></Field>
        <Field label={t('history.to')}><input type="datetime-local" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} /></Field>
        <div className="form-actions">
          <button type="submit" className="primary">{t('history.filter')}</button>
          <button type="button" onClick={() => { setDraft(EMPTY); setApplied(EMPTY) }}>{t('history.reset')}</button>
        </div>
      </form>
      <ErrorNote error={entries.error} />
      {rows.length === 0 && !entries.loading
        ? <p className="empty">{t('audit.none')}</p>
        : (
          <TableWrap>
            <table data-testid="audit">
              <thead><tr><th>{t('audit.at')}</th><th>{t('audit.actor')}</th><th>{t('audit.action')}</th><th>{t('audit.resource')}</th><th>{t('audit.result')}</th><th>{t('audit.ip')}</th></tr></thead>
              <tbody>
                {rows.map((e) => (
                  <tr key={e.id}>
                    <td><Time iso={e.at} /></td>
                    <td>{e.actor ?? ''}{e.user_id !== null && <span className="muted"> #{e.user_id}</span>}</td>
                    <td>{e.action}</td>
                    <td title={e.detail === undefined ? undefined : JSON.stringify(e.detail)}>{e.resource ?? ''}</td>
                    <td><Badge tone={e.result === 'ok' ? 'ok' : e.result === 'denied' ? 'warn' : 'bad'}>{e.result}</Badge></td>
                    <td>{e.ip ?? ''}{e.client_id !== null && <span className="muted"> {e.client_id}</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
          )}
      {entries.more !== null && <button type="button" onClick={entries.more}>{t('common.more')}</button>}
    </section>
  )
}
