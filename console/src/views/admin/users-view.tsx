import { useState, type FormEvent, type ReactNode } from 'react'
import { ApiError, type ApiClient } from '../../api'
import { useI18n } from '../../i18n/i18n'
import type { Me, Role, User } from '../../types'
import { Badge, ErrorNote, Field, issuesByField, TableWrap, Time, useAsync, usePagedList } from '../../ui'
import { KeysPanel } from './keys-panel'

const FIELDS = ['name', 'contact', 'role'] as const

function CreateUser({ api, onCreated }: { api: ApiClient, onCreated(user: User): void }): ReactNode {
  const { t } = useI18n()
  const roles = useAsync(() => api.get<{ data: Role[] }>('/roles'), [api])
  const [draft, setDraft] = useState({ name: '', contact: '', role: 'subscriber' })
  const [errors, setErrors] = useState<Record<string, string>>({})
  const [failure, setFailure] = useState<unknown>(null)
  const submit = (event: FormEvent): void => {
    event.preventDefault()
    setErrors({})
    setFailure(null)
    api.post<User>('/users', { name: draft.name.trim(), contact: draft.contact.trim() === '' ? null : draft.contact.trim(), role: draft.role }).then((user) => {
      setDraft((d) => ({ ...d, name: '', contact: '' }))
      onCreated(user)
    }, (err: unknown) => {
      const issues = err instanceof ApiError ? issuesByField(err.issues, FIELDS) : {}
      setErrors(issues)
      if (Object.keys(issues).length === 0 || issues[''] !== undefined) setFailure(err)
    })
  }
  return (
    <form className="card form-grid" onSubmit={submit} noValidate data-testid="create-user">
      <Field label={t('users.name')} error={errors.name} name="name"><input name="name" value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} /></Field>
      <Field label={t('users.contact')} error={errors.contact} name="contact"><input name="contact" value={draft.contact} onChange={(e) => setDraft({ ...draft, contact: e.target.value })} /></Field>
      <Field label={t('users.role')} error={errors.role} name="role">
        <select name="role" value={draft.role} onChange={(e) => setDraft({ ...draft, role: e.target.value })}>
          {(roles.data?.data ?? [{ id: 0, name: 'subscriber', description: '', created_at: '' }]).map((r) => <option key={r.name} value={r.name}>{r.name}</option>)}
        </select>
      </Field>
      <div className="form-actions"><button type="submit" className="primary">{t('users.create')}</button></div>
      <ErrorNote error={failure} />
    </form>
  )
}

/** Users: create, disable or enable, and open one's keys. */
export function UsersView({ api, me }: { api: ApiClient, me: Me }): ReactNode {
  const { t } = useI18n()
  const users = usePagedList((cursor) => api.get<{ data: User[], next_cursor: string | null }>('/users', { limit: 100, cursor }), [api])
  const [selected, setSelected] = useState<User | null>(null)
  const [error, setError] = useState<unknown>(null)
  const setStatus = (user: User, status: User['status']): void => {
    setError(null)
    api.patch<User>(`/users/${user.id}`, { status }).then(users.reload, setError)
  }
  const rows = users.data ?? []
  return (
    <section>
      <h2>{t('users.title')}</h2>
      <CreateUser api={api} onCreated={(user) => { users.reload(); setSelected(user) }} />
      <ErrorNote error={error ?? users.error} />
      <TableWrap>
        <table data-testid="users">
          <thead><tr><th>{t('common.id')}</th><th>{t('users.name')}</th><th>{t('users.contact')}</th><th>{t('users.role')}</th><th>{t('users.status')}</th><th>{t('common.created')}</th><th /></tr></thead>
          <tbody>
            {rows.map((u) => (
              <tr key={u.id} data-testid="user-row" data-user={u.name} className={selected?.id === u.id ? 'selected' : undefined}>
                <td className="num">{u.id}</td><td>{u.name}</td><td>{u.contact ?? ''}</td><td>{u.role}</td>
                <td><Badge tone={u.status === 'active' ? 'ok' : 'bad'}>{t(u.status === 'active' ? 'users.active' : 'users.disabled')}</Badge></td>
                <td><Time iso={u.created_at} /></td>
                <td className="actions">
                  <button type="button" onClick={() => setSelected(u)}>{t('users.keys')}</button>
                  {u.id !== me.user.id && (u.status === 'active'
                    ? <button type="button" className="danger" onClick={() => setStatus(u, 'disabled')}>{t('users.disable')}</button>
                    : <button type="button" onClick={() => setStatus(u, 'active')}>{t('users.enable')}</button>)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
      {users.more !== null && <button type="button" onClick={users.more}>{t('common.more')}</button>}
      {selected !== null && <KeysPanel key={selected.id} api={api} user={selected} />}
    </section>
  )
}
