import { useState, type FormEvent, type ReactNode } from 'react'
import { createApiClient } from '../api'
import { useI18n } from '../i18n/i18n'
import { LanguageSwitch } from '../language-switch'
import type { Me } from '../types'
import { ErrorNote, Field } from '../ui'

export function SignIn({ onSignedIn, ended }: { onSignedIn(key: string, me: Me): void, ended: string }): ReactNode {
  const { t, locale } = useI18n()
  const [key, setKey] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)

  const submit = (event: FormEvent): void => {
    event.preventDefault()
    const trimmed = key.trim()
    setBusy(true)
    setError(null)
    createApiClient({ key: trimmed, language: () => locale }).get<Me>('/me').then((me) => onSignedIn(trimmed, me), (err: unknown) => {
      setError(err)
      setBusy(false)
    })
  }

  return (
    <main className="sign-in">
      <form className="card sign-in-card" onSubmit={submit} noValidate>
        <div className="sign-in-head">
          <h1>{t('signIn.title')}</h1>
          <LanguageSwitch />
        </div>
        {ended !== '' && <p className="note note-warn">{t('app.sessionEnded', { reason: ended })}</p>}
        <Field label={t('signIn.key')} hint={t('signIn.keyHint')} name="key">
          <input type="password" name="key" autoComplete="off" spellCheck={false} value={key} onChange={(e) => setKey(e.target.value)} autoFocus />
        </Field>
        <ErrorNote error={error} />
        <button type="submit" className="primary" disabled={busy || key.trim() === ''}>{busy ? t('signIn.checking') : t('signIn.submit')}</button>
      </form>
    </main>
  )
}
