import { useState, type FormEvent, type ReactNode } from 'react'
import { ApiError, type ApiClient } from '../../api'
import { useI18n } from '../../i18n/i18n'
import type { Permission, PermissionAction, Role } from '../../types'
import { Badge, ErrorNote, Field, issuesByField, TableWrap, useAsync } from '../../ui'

const ACTIONS: PermissionAction[] = ['publish', 'subscribe', 'read', 'admin']

function Permissions({ api, role }: { api: ApiClient, role: Role }): ReactNode {
  const { t } = useI18n()
  const rules = useAsync(() => api.get<{ data: Permission[] }>(`/roles/${role.id}/permissions`), [api, role.id])
  const [draft, setDraft] = useState<{ action: PermissionAction, topic: string, effect: 'allow' | 'deny' }>({ action: 'subscribe', topic: '', effect: 'allow' })
  const [errors, setErrors] = useState<Record<string, string>>({})
  const [error, setError] = useState<unknown>(null)
  const add = (event: FormEvent): void => {
    event.preventDefault()
    setErrors({})
    setError(null)
    api.post(`/roles/${role.id}/permissions`, { ...draft, topic: draft.topic.trim() }).then(() => {
      setDraft((d) => ({ ...d, topic: '' }))
      rules.reload()
    }, (err: unknown) => {
      const issues = err instanceof ApiError ? issuesByField(err.issues, ['action', 'topic', 'effect']) : {}
      setErrors(issues)
      if (Object.keys(issues).length === 0 || issues[''] !== undefined) setError(err)
    })
  }
  const remove = (rule: Permission): void => {
    api.del(`/roles/${role.id}/permissions/${rule.id}`).then(rules.reload, setError)
  }
  const rows = rules.data?.data ?? []
  return (
    <div className="card">
      <h3>{t('roles.permissions', { name: role.name })}</h3>
      {rows.length === 0 && !rules.loading && <p className="empty">{t('roles.none')}</p>}
      {rows.length > 0 && (
        <TableWrap>
          <table>
            <thead><tr><th>{t('roles.action')}</th><th>{t('roles.topic')}</th><th>{t('roles.effect')}</th><th /></tr></thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id}>
                  <td>{r.action}</td><td><code>{r.topic}</code></td><td><Badge tone={r.effect === 'allow' ? 'ok' : 'bad'}>{r.effect}</Badge></td>
                  <td className="actions"><button type="button" className="danger" onClick={() => remove(r)}>{t('roles.remove')}</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <form className="form-grid" onSubmit={add} noValidate>
        <Field label={t('roles.action')} error={errors.action}>
          <select value={draft.action} onChange={(e) => setDraft({ ...draft, action: e.target.value as PermissionAction })}>{ACTIONS.map((a) => <option key={a}>{a}</option>)}</select>
        </Field>
        <Field label={t('roles.topic')} error={errors.topic}><input value={draft.topic} placeholder="news/#" onChange={(e) => setDraft({ ...draft, topic: e.target.value })} /></Field>
        <Field label={t('roles.effect')} error={errors.effect}>
          <select value={draft.effect} onChange={(e) => setDraft({ ...draft, effect: e.target.value as 'allow' | 'deny' })}><option>allow</option><option>deny</option></select>
        </Field>
        <div className="form-actions"><button type="submit" className="primary">{t('roles.add')}</button></div>
      </form>
      <ErrorNote error={error ?? rules.error} />
    </div>
  )
}

/** Roles and their permission rules (deny wins). */
export function RolesView({ api }: { api: ApiClient }): ReactNode {
  const { t } = useI18n()
  const roles = useAsync(() => api.get<{ data: Role[] }>('/roles'), [api])
  const [selected, setSelected] = useState<number | null>(null)
  const [draft, setDraft] = useState({ name: '', description: '' })
  const [errors, setErrors] = useState<Record<string, string>>({})
  const [error, setError] = useState<unknown>(null)
  const create = (event: FormEvent): void => {
    event.preventDefault()
    setErrors({})
    setError(null)
    api.post<Role>('/roles', { name: draft.name.trim(), description: draft.description }).then((role) => {
      setDraft({ name: '', description: '' })
      roles.reload()
      setSelected(role.id)
    }, (err: unknown) => {
      const issues = err instanceof ApiError ? issuesByField(err.issues, ['name', 'description']) : {}
      setErrors(issues)
      if (Object.keys(issues).length === 0 || issues[''] !== undefined) setError(err)
    })
  }
  const list = roles.data?.data ?? []
  const role = list.find((r) => r.id === selected) ?? null
  return (
    <section>
      <h2>{t('roles.title')}</h2>
      <ErrorNote error={roles.error} />
      <ul className="chips">
        {list.map((r) => (
          <li key={r.id}>
            <button type="button" className={r.id === selected ? 'chip chip-active' : 'chip'} onClick={() => setSelected(r.id)} title={r.description}>{r.name}</button>
          </li>
        ))}
      </ul>
      <form className="card form-grid" onSubmit={create} noValidate>
        <Field label={t('users.name')} error={errors.name}><input value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} /></Field>
        <Field label={t('roles.description')} error={errors.description}><input value={draft.description} onChange={(e) => setDraft({ ...draft, description: e.target.value })} /></Field>
        <div className="form-actions"><button type="submit" className="primary">{t('roles.create')}</button></div>
        <ErrorNote error={error} />
      </form>
      {role !== null && <Permissions key={role.id} api={api} role={role} />}
    </section>
  )
}
