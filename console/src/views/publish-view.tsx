import { useState, type FormEvent, type ReactNode } from 'react'
import { ApiError, randomId, readAll, type ApiClient } from '../api'
import { useI18n } from '../i18n/i18n'
import { localInputToIso, nowForInput } from '../time'
import type { Me, Signal, Strategy } from '../types'
import { ErrorNote, Field, issuesByField, useAsync } from '../ui'

const FIELDS = ['strategy_id', 'symbol', 'type', 'execute_date', 'description', 'payload'] as const
/** The server's default SIGNAL_TYPES; another configured type can still be typed in. */
const KNOWN_TYPES = ['buy', 'sell', 'open', 'close', 'hold']

interface Draft {
  strategy_id: string
  symbol: string
  type: string
  execute_date: string
  description: string
  payload: string
}

export function PublishView({ api, me }: { api: ApiClient, me: Me }): ReactNode {
  const { t } = useI18n()
  const admin = me.user.role === 'admin'
  const strategies = useAsync(() => readAll<Strategy>(api, '/strategies', admin ? {} : { owner_id: me.user.id }), [api, me])
  const [draft, setDraft] = useState<Draft>({ strategy_id: '', symbol: '', type: 'buy', execute_date: nowForInput(), description: '', payload: '' })
  const [errors, setErrors] = useState<Record<string, string>>({})
  const [failure, setFailure] = useState<unknown>(null)
  const [done, setDone] = useState<Signal | null>(null)
  const [busy, setBusy] = useState(false)

  const own = strategies.data ?? []
  const strategyId = draft.strategy_id !== '' ? draft.strategy_id : own[0]?.id ?? ''
  const set = (name: keyof Draft) => (value: string) => setDraft((d) => ({ ...d, [name]: value }))

  const submit = (event: FormEvent): void => {
    event.preventDefault()
    setErrors({})
    setFailure(null)
    setDone(null)
    let payload: unknown
    if (draft.payload.trim() !== '') {
      try {
        payload = JSON.parse(draft.payload)
      } catch {
        setErrors({ payload: t('publish.payloadInvalid') })
        return
      }
    }
    const body = {
      strategy_id: strategyId,
      symbol: draft.symbol.trim(),
      type: draft.type,
      execute_date: localInputToIso(draft.execute_date),
      description: draft.description,
      ...(payload === undefined ? {} : { payload })
    }
    setBusy(true)
    api.post<Signal>('/signals', body, { 'Idempotency-Key': randomId() }).then((signal) => {
      setDone(signal)
      setDraft((d) => ({ ...d, description: '', payload: '' }))
    }, (err: unknown) => {
      const issues = err instanceof ApiError ? issuesByField(err.issues, FIELDS) : {}
      setErrors(issues)
      if (Object.keys(issues).length === 0 || issues[''] !== undefined) setFailure(err)
    }).finally(() => setBusy(false))
  }

  if (strategies.error !== null) return <ErrorNote error={strategies.error} />
  if (strategies.loading && strategies.data === null) return <p>{t('common.loading')}</p>
  if (own.length === 0) return <p className="empty">{t('publish.noStrategies')}</p>

  return (
    <section>
      <h2>{t('publish.title')}</h2>
      <form className="card form-grid" onSubmit={submit} noValidate data-testid="publish-form">
        <Field label={t('signal.strategy')} error={errors.strategy_id} name="strategy_id">
          <select name="strategy_id" value={strategyId} onChange={(e) => set('strategy_id')(e.target.value)}>
            {own.map((s) => <option key={s.id} value={s.id}>{s.name === s.id ? s.id : `${s.name} (${s.id})`}</option>)}
          </select>
        </Field>
        <Field label={t('signal.symbol')} error={errors.symbol} name="symbol">
          <input name="symbol" value={draft.symbol} onChange={(e) => set('symbol')(e.target.value)} autoCapitalize="characters" />
        </Field>
        <Field label={t('signal.type')} error={errors.type} name="type">
          <input name="type" list="signal-types" value={draft.type} onChange={(e) => set('type')(e.target.value)} />
          <datalist id="signal-types">{KNOWN_TYPES.map((type) => <option key={type} value={type} />)}</datalist>
        </Field>
        <Field label={t('signal.executeDate')} error={errors.execute_date} name="execute_date">
          <input name="execute_date" type="datetime-local" step={1} value={draft.execute_date} onChange={(e) => set('execute_date')(e.target.value)} />
        </Field>
        <Field label={t('signal.description')} error={errors.description} name="description">
          <input name="description" value={draft.description} onChange={(e) => set('description')(e.target.value)} />
        </Field>
        <Field label={t('signal.payload')} error={errors.payload} hint={t('publish.payloadHint')} name="payload">
          <textarea name="payload" rows={3} value={draft.payload} onChange={(e) => set('payload')(e.target.value)} spellCheck={false} />
        </Field>
        <div className="form-actions">
          <button type="submit" className="primary" disabled={busy}>{busy ? t('publish.sending') : t('publish.submit')}</button>
        </div>
      </form>
      {errors[''] !== undefined && <p className="note note-error" role="alert">{errors['']}</p>}
      <ErrorNote error={failure} />
      {done !== null && <p className="note note-ok" role="status" data-testid="published">{t('publish.done', { strategy: done.strategy_id, symbol: done.symbol, seq: done.seq })}</p>}
    </section>
  )
}
