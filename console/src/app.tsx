import { useCallback, useEffect, useMemo, useRef, useState, type MouseEvent, type ReactNode } from 'react'
import { createApiClient, type ApiClient } from './api'
import { capabilitiesOf, tabsFor, type Tab } from './capabilities'
import { useI18n } from './i18n/i18n'
import type { MessageKey } from './i18n/messages-en'
import { LanguageSwitch } from './language-switch'
import { clearSessionKey, loadSessionKey, saveSessionKey } from './session'
import { zoneLabel } from './time'
import type { Me } from './types'
import { ErrorNote } from './ui'
import { useLiveFeed } from './use-live-feed'
import { AuditView } from './views/admin/audit-view'
import { RolesView } from './views/admin/roles-view'
import { UsersView } from './views/admin/users-view'
import { ConnectionPill, FeedView } from './views/feed-view'
import { HistoryView } from './views/history-view'
import { PublishView } from './views/publish-view'
import { ReportsView } from './views/reports-view'
import { SignIn } from './views/sign-in'
import { SubscriptionsView } from './views/subscriptions-view'

const BASE = '/console/'

const TAB_LABELS: Record<Tab, MessageKey> = {
  feed: 'nav.feed',
  publish: 'nav.publish',
  history: 'nav.history',
  subscriptions: 'nav.subscriptions',
  reports: 'nav.reports',
  users: 'nav.users',
  roles: 'nav.roles',
  audit: 'nav.audit'
}

function tabFromPath(pathname: string): string {
  return pathname.startsWith(BASE) ? pathname.slice(BASE.length).split('/')[0] : ''
}

function useTabPath(): [string, (tab: Tab) => void] {
  const [path, setPath] = useState(() => tabFromPath(window.location.pathname))
  useEffect(() => {
    const onPop = (): void => setPath(tabFromPath(window.location.pathname))
    window.addEventListener('popstate', onPop)
    return () => window.removeEventListener('popstate', onPop)
  }, [])
  const go = useCallback((tab: Tab) => {
    window.history.pushState(null, '', `${BASE}${tab}`)
    setPath(tab)
  }, [])
  return [path, go]
}

export function App(): ReactNode {
  const { t, locale } = useI18n()
  const [key, setKey] = useState<string | null>(loadSessionKey)
  const [me, setMe] = useState<Me | null>(null)
  const [ended, setEnded] = useState('')
  const [loadError, setLoadError] = useState<unknown>(null)
  const [planVersion, setPlanVersion] = useState(0)
  const [path, go] = useTabPath()
  const localeRef = useRef(locale)
  localeRef.current = locale

  const signOut = useCallback((reason = '') => {
    clearSessionKey()
    setKey(null)
    setMe(null)
    setEnded(reason)
  }, [])

  const api = useMemo<ApiClient | null>(() => key === null
    ? null
    : createApiClient({ key, language: () => localeRef.current, onUnauthorized: (err) => signOut(err.message) }), [key, signOut])

  useEffect(() => {
    if (api === null || me !== null) return
    api.get<Me>('/me').then(setMe, setLoadError)
  }, [api, me])

  const feed = useLiveFeed(api, me, key, planVersion)
  const planChanged = useCallback(() => setPlanVersion((v) => v + 1), [])

  if (key === null || api === null) {
    return <SignIn ended={ended} onSignedIn={(k, m) => { saveSessionKey(k); setEnded(''); setKey(k); setMe(m) }} />
  }
  if (me === null) {
    return <main className="loading">{loadError === null ? t('common.loading') : <ErrorNote error={loadError} />}</main>
  }

  const tabs = tabsFor(capabilitiesOf(me.user.role))
  const tab: Tab = (tabs as string[]).includes(path) ? path as Tab : 'feed'
  const follow = (target: Tab) => (event: MouseEvent) => {
    event.preventDefault()
    go(target)
  }

  return (
    <div className="shell">
      <header className="top">
        <div className="brand">{t('app.title')}</div>
        <ConnectionPill state={feed.state} detail={feed.detail} />
        <div className="top-right">
          <span className="who" data-testid="who">{t('app.signedInAs', { name: me.user.name, role: me.user.role })}</span>
          <LanguageSwitch />
          <button type="button" onClick={() => signOut()} data-testid="sign-out">{t('app.signOut')}</button>
        </div>
      </header>
      <nav className="tabs" aria-label="sections">
        {tabs.map((name) => (
          <a key={name} href={`${BASE}${name}`} className={name === tab ? 'tab tab-active' : 'tab'} aria-current={name === tab ? 'page' : undefined} onClick={follow(name)} data-tab={name}>
            {t(TAB_LABELS[name])}
          </a>
        ))}
      </nav>
      <main className="content">
        {tab === 'feed' && <FeedView feed={feed} />}
        {tab === 'publish' && <PublishView api={api} me={me} />}
        {tab === 'history' && <HistoryView api={api} />}
        {tab === 'subscriptions' && <SubscriptionsView api={api} me={me} onChanged={planChanged} />}
        {tab === 'reports' && <ReportsView api={api} />}
        {tab === 'users' && <UsersView api={api} me={me} />}
        {tab === 'roles' && <RolesView api={api} />}
        {tab === 'audit' && <AuditView api={api} />}
      </main>
      <footer className="foot" data-testid="zone">{t('app.timeZone', { zone: zoneLabel(locale) })}</footer>
    </div>
  )
}
