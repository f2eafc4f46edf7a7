import { useState, type ReactNode } from 'react'
import { readAll, type ApiClient } from '../api'
import { useI18n } from '../i18n/i18n'
import type { Me, Strategy, Subscription } from '../types'
import { Badge, ErrorNote, useAsync } from '../ui'

interface Listing {
  strategies: Strategy[]
  subscriptions: Subscription[]
}

function symbolsOf(text: string): string[] | null {
  const symbols = text.split(',').map((s) => s.trim()).filter((s) => s !== '')
  return symbols.length === 0 ? null : symbols
}

function StrategyRow({ strategy, subscription, me, api, onChanged }: { strategy: Strategy, subscription: Subscription | undefined, me: Me, api: ApiClient, onChanged(): void }): ReactNode {
  const { t } = useI18n()
  const [symbols, setSymbols] = useState(subscription?.symbols?.join(', ') ?? '')
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)
  const owned = strategy.owner_id === me.user.id

  const run = (action: Promise<unknown>): void => {
    setBusy(true)
    setError(null)
    action.then(onChanged, setError).finally(() => setBusy(false))
  }
  const subscribe = (): void => run(api.post('/subscriptions', { strategy_id: strategy.id, symbols: symbolsOf(symbols) }))
  const unsubscribe = (): void => { if (subscription !== undefined) run(api.del(`/subscriptions/${subscription.id}`)) }

  return (
    <li className="card strategy" data-testid="strategy" data-strategy={strategy.id}>
      <div className="strategy-head">
        <strong>{strategy.name}</strong>
        <span className="muted">{strategy.id}</span>
        <Badge tone={strategy.visibility === 'public' ? 'info' : 'warn'}>{t(strategy.visibility === 'public' ? 'subs.public' : 'subs.private')}</Badge>
        {owned && <Badge tone="ok">{t('subs.owned')}</Badge>}
        {subscription !== undefined && <Badge tone="ok">{t('subs.subscribed')}: {subscription.symbols?.join(', ') ?? t('subs.allSymbols')}</Badge>}
      </div>
      {strategy.description !== '' && <p>{strategy.description}</p>}
      <p className="muted">{t('subs.owner')}: {strategy.owner_id} · {t('subs.lastSeq')}: {strategy.last_seq}</p>
      <div className="strategy-actions">
        <input aria-label={t('subs.symbols')} placeholder={t('subs.symbols')} value={symbols} onChange={(e) => setSymbols(e.target.value)} />
        <button type="button" className="primary" disabled={busy} onClick={subscribe}>{subscription === undefined ? t('subs.subscribe') : t('subs.update')}</button>
        {subscription !== undefined && <button type="button" disabled={busy} onClick={unsubscribe}>{t('subs.unsubscribe')}</button>}
      </div>
      <ErrorNote error={error} />
    </li>
  )
}

/** Browse the strategies one may see; subscribe (optionally to some symbols) and unsubscribe. */
export function SubscriptionsView({ api, me, onChanged }: { api: ApiClient, me: Me, onChanged(): void }): ReactNode {
  const { t } = useI18n()
  const listing = useAsync<Listing>(async () => {
    const [strategies, subscriptions] = await Promise.all([
      readAll<Strategy>(api, '/strategies'),
      readAll<Subscription>(api, '/subscriptions', { user_id: me.user.role === 'admin' ? me.user.id : undefined })
    ])
    return { strategies, subscriptions: subscriptions.filter((s) => s.status === 'active' && s.user_id === me.user.id) }
  }, [api, me])
  const changed = (): void => {
    listing.reload()
    onChanged()
  }
  if (listing.error !== null) return <ErrorNote error={listing.error} />
  if (listing.data === null) return <p>{t('common.loading')}</p>
  const { strategies, subscriptions } = listing.data
  const bySubscription = new Map(subscriptions.map((s) => [s.strategy_id, s]))
  return (
    <section>
      <div className="section-head">
        <h2>{t('subs.title')}</h2>
        <span className="muted">{t('subs.mine')}: {subscriptions.length}</span>
        <button type="button" onClick={listing.reload}>{t('common.refresh')}</button>
      </div>
      {strategies.length === 0
        ? <p className="empty">{t('subs.none')}</p>
        : <ul className="strategies">{strategies.map((s) => <StrategyRow key={`${s.id}:${bySubscription.get(s.id)?.updated_at ?? ''}`} strategy={s} subscription={bySubscription.get(s.id)} me={me} api={api} onChanged={changed} />)}</ul>}
    </section>
  )
}
