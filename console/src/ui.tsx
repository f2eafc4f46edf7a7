import { useCallback, useEffect, useState, type ReactNode } from 'react'
import { ApiError } from './api'
import { useI18n } from './i18n/i18n'
import { formatTime } from './time'
import type { FieldIssue } from './types'

/** A labelled form control with the API's message for it underneath. */
export function Field({ label, error, hint, children, name }: { label: string, error?: string, hint?: string, name?: string, children: ReactNode }): ReactNode {
  return (
    <label className={error === undefined ? 'field' : 'field field-invalid'} data-field={name}>
      <span className="field-label">{label}</span>
      {children}
      {hint !== undefined && error === undefined && <span className="field-hint">{hint}</span>}
      {error !== undefined && <span className="field-error" role="alert">{error}</span>}
    </label>
  )
}

/** The top-level path of an issue (`signals.0.symbol` → `symbol`, `payload.price` → `payload`). */
export function issueField(path: string): string {
  const parts = path.split('.').filter((p) => !/^\d+$/.test(p) && p !== 'signals')
  return parts[0] ?? ''
}

/** Issues keyed by field; those matching no known field are returned under ''. */
export function issuesByField(issues: FieldIssue[], fields: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const issue of issues) {
    const field = issueField(issue.path)
    const key = fields.includes(field) ? field : ''
    out[key] = out[key] === undefined ? issue.message : `${out[key]}; ${issue.message}`
  }
  return out
}

export function ErrorNote({ error }: { error: unknown }): ReactNode {
  const { t } = useI18n()
  if (error === null || error === undefined) return null
  const text = error instanceof ApiError && error.problem !== null
    ? `${error.problem.title}: ${error.problem.detail}`
    : (error as Error).message ?? String(error)
  return <p className="note note-error" role="alert"><strong>{t('common.error')}</strong> {text}</p>
}

export function Time({ iso }: { iso: string | null | undefined }): ReactNode {
  const { locale, t } = useI18n()
  if (iso === null || iso === undefined) return <span className="muted">{t('common.never')}</span>
  return <time dateTime={iso}>{formatTime(iso, locale)}</time>
}

export function Badge({ tone, children }: { tone?: 'ok' | 'warn' | 'bad' | 'info', children: ReactNode }): ReactNode {
  return <span className={`badge badge-${tone ?? 'info'}`}>{children}</span>
}

/** A table that scrolls sideways on a narrow screen instead of squeezing its columns. */
export function TableWrap({ children }: { children: ReactNode }): ReactNode {
  return <div className="table-wrap">{children}</div>
}

export interface AsyncState<T> {
  data: T | null
  error: unknown
  loading: boolean
  reload(): void
}

/** Runs `load` now and whenever `deps` change or `reload()` is called; the latest answer wins. */
export function useAsync<T>(load: () => Promise<T>, deps: readonly unknown[]): AsyncState<T> {
  const [data, setData] = useState<T | null>(null)
  const [error, setError] = useState<unknown>(null)
  const [loading, setLoading] = useState(true)
  const [version, setVersion] = useState(0)
  useEffect(() => {
    let current = true
    setLoading(true)
    load().then((value) => {
      if (!current) return
      setData(value)
      setError(null)
      setLoading(false)
    }, (err: unknown) => {
      if (!current) return
      setError(err)
      setLoading(false)
    })
    return () => { current = false }
  }, [...deps, version])
  const reload = useCallback(() => setVersion((v) => v + 1), [])
  return { data, error, loading, reload }
}

/** A list read page by page with "load more". */
export function usePagedList<T>(load: (cursor: string | undefined) => Promise<{ data: T[], next_cursor: string | null }>, deps: readonly unknown[]): AsyncState<T[]> & { more: (() => void) | null } {
  const [items, setItems] = useState<T[]>([])
  const [cursor, setCursor] = useState<string | null>(null)
  const first = useAsync(() => load(undefined), deps)
  const [error, setError] = useState<unknown>(null)
  useEffect(() => {
    if (first.data === null) return
    setItems(first.data.data)
    setCursor(first.data.next_cursor)
  }, [first.data])
  const more = cursor === null
    ? null
    : () => {
        load(cursor).then((page) => {
          setItems((old) => [...old, ...page.data])
          setCursor(page.next_cursor)
        }, setError)
      }
  return { data: items, error: first.error ?? error, loading: first.loading, reload: first.reload, more }
}
