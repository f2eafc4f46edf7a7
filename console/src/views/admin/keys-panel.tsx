import { useState, type ReactNode } from 'react'
import type { ApiClient } from '../../api'
import { useI18n } from '../../i18n/i18n'
import type { ApiKey, IssuedKey, User } from '../../types'
import { Badge, ErrorNote, TableWrap, Time, useAsync } from '../../ui'

/** A freshly issued key: the only time its secret is on screen. */
function IssuedKeyBox({ issued, onDismiss }: { issued: IssuedKey, onDismiss(): void }): ReactNode {
  const { t } = useI18n()
  const [copied, setCopied] = useState(false)
  const copy = (): void => {
    navigator.clipboard.writeText(issued.key).then(() => setCopied(true), () => setCopied(false))
  }
  return (
    <div className="note note-ok issued" role="status" data-testid="issued-key">
      <p>{t('keys.shownOnce', { prefix: issued.prefix })}</p>
      <div className="issued-row">
        <code className="secret" data-testid="issued-secret">{issued.key}</code>
        <button type="button" onClick={copy}>{copied ? t('keys.copied') : t('keys.copy')}</button>
        <button type="button" onClick={onDismiss}>{t('keys.dismiss')}</button>
      </div>
    </div>
  )
}

function KeyRow({ apiKey, api, onIssued, onChanged }: { apiKey: ApiKey, api: ApiClient, onIssued(k: IssuedKey): void, onChanged(): void }): ReactNode {
  const { t } = useI18n()
  const [confirming, setConfirming] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const tone = apiKey.status === 'active' ? 'ok' : apiKey.status === 'expiring' ? 'warn' : 'bad'
  const rotate = (): void => {
    api.post<IssuedKey>(`/keys/${apiKey.id}/rotate`).then((k) => { onIssued(k); onChanged() }, setError)
  }
  const revoke = (): void => {
    setConfirming(false)
    api.post(`/keys/${apiKey.id}/revoke`).then(onChanged, setError)
  }
  return (
    <tr data-testid="key-row" data-prefix={apiKey.prefix} data-status={apiKey.status}>
      <td><code>{apiKey.prefix}</code></td>
      <td>{apiKey.label ?? ''}</td>
      <td><Badge tone={tone}>{apiKey.status}</Badge></td>
      <td><Time iso={apiKey.created_at} /></td>
      <td><Time iso={apiKey.last_used_at} /></td>
      <td>{apiKey.expires_at === null ? '—' : <Time iso={apiKey.expires_at} />}</td>
      <td className="actions">
        {apiKey.status !== 'revoked' && !confirming && (
          <>
            <button type="button" onClick={rotate}>{t('keys.rotate')}</button>
            <button type="button" className="danger" onClick={() => setConfirming(true)}>{t('keys.revoke')}</button>
          </>
        )}
        {confirming && (
          <>
            <button type="button" className="danger" onClick={revoke}>{t('keys.confirmRevoke')}</button>
            <button type="button" onClick={() => setConfirming(false)}>{t('keys.cancel')}</button>
          </>
        )}
        <ErrorNote error={error} />
      </td>
    </tr>
  )
}

/** A user's keys: create (shown once, with a copy button), rotate, revoke. */
export function KeysPanel({ api, user }: { api: ApiClient, user: User }): ReactNode {
  const { t } = useI18n()
  const keys = useAsync(() => api.get<{ data: ApiKey[] }>(`/users/${user.id}/keys`), [api, user.id])
  const [label, setLabel] = useState('')
  const [issued, setIssued] = useState<IssuedKey | null>(null)
  const [error, setError] = useState<unknown>(null)
  const create = (): void => {
    setError(null)
    api.post<IssuedKey>(`/users/${user.id}/keys`, label.trim() === '' ? {} : { label: label.trim() }).then((k) => {
      setIssued(k)
      setLabel('')
      keys.reload()
    }, setError)
  }
  const rows = keys.data?.data ?? []
  return (
    <div className="keys" data-testid="keys-panel">
      <h3>{t('keys.title', { name: user.name })}</h3>
      {issued !== null && <IssuedKeyBox issued={issued} onDismiss={() => setIssued(null)} />}
      <div className="inline-form">
        <input aria-label={t('keys.label')} placeholder={t('keys.label')} value={label} onChange={(e) => setLabel(e.target.value)} />
        <button type="button" className="primary" onClick={create}>{t('keys.create')}</button>
      </div>
      <ErrorNote error={error ?? keys.error} />
      {rows.length === 0
        ? <p className="empty">{t('keys.none')}</p>
        : (
          <TableWrap>
            <table>
              <thead><tr><th>{t('keys.prefix')}</th><th>{t('keys.label')}</th><th>{t('keys.status')}</th><th>{t('common.created')}</th><th>{t('keys.lastUsed')}</th><th>{t('keys.expires')}</th><th /></tr></thead>
              <tbody>{rows.map((k) => <KeyRow key={k.id} apiKey={k} api={api} onIssued={setIssued} onChanged={keys.reload} />)}</tbody>
            </table>
          </TableWrap>
          )}
    </div>
  )
}
