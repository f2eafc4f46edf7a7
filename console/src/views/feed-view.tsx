import type { ReactNode } from 'react'
import { useI18n } from '../i18n/i18n'
import type { ConnectionState, FeedEntry } from '../live-feed'
import type { Signal } from '../types'
import { Badge, Time } from '../ui'
import type { FeedModel } from '../use-live-feed'

const STATE_TONE: Record<ConnectionState, 'ok' | 'warn' | 'bad' | 'info'> = {
  idle: 'info', connecting: 'warn', connected: 'ok', reconnecting: 'warn', offline: 'bad', refused: 'bad'
}

export function ConnectionPill({ state, detail }: { state: ConnectionState, detail: string }): ReactNode {
  const { t } = useI18n()
  const label = state === 'refused' ? t('conn.refused', { detail }) : t(`conn.${state}`)
  return <span className={`pill pill-${STATE_TONE[state]}`} data-testid="connection" data-state={state} role="status"><span className="dot" aria-hidden="true" />{label}</span>
}

export function typeTone(type: string): 'ok' | 'bad' | 'info' | 'warn' {
  if (type === 'buy' || type === 'open') return 'ok'
  if (type === 'sell' || type === 'close') return 'bad'
  return 'info'
}

function payloadText(payload: unknown): string {
  return payload === null || payload === undefined ? '' : JSON.stringify(payload)
}

export function SignalCard({ signal, source }: { signal: Signal, source?: FeedEntry['source'] }): ReactNode {
  const { t } = useI18n()
  const payload = payloadText(signal.payload)
  return (
    <article className="signal" data-testid="signal" data-strategy={signal.strategy_id} data-seq={signal.seq}>
      <div className="signal-head">
        <Badge tone={typeTone(signal.type)}>{signal.type}</Badge>
        <strong className="signal-symbol">{signal.symbol}</strong>
        <span className="muted">{signal.strategy_id} · #{signal.seq}</span>
        {source === 'retained' && <Badge>{t('feed.retained')}</Badge>}
        {source === 'history' && <Badge tone="warn">{t('feed.caughtUp')}</Badge>}
      </div>
      {signal.description !== '' && <p className="signal-text">{signal.description}</p>}
      {payload !== '' && <code className="signal-payload">{payload}</code>}
      <dl className="signal-times">
        <dt>{t('signal.executeDate')}</dt><dd><Time iso={signal.execute_date} /></dd>
        <dt>{t('signal.createdAt')}</dt><dd><Time iso={signal.created_at} /></dd>
      </dl>
    </article>
  )
}

export function FeedView({ feed }: { feed: FeedModel }): ReactNode {
  const { t } = useI18n()
  return (
    <section>
      <div className="section-head">
        <h2>{t('feed.title')}</h2>
        <span className="muted" data-testid="topics" title={feed.topics.join('\n')}>
          {feed.topics.length === 0 ? t('feed.noTopics') : t('feed.topics', { count: feed.topics.length })}
        </span>
        <button type="button" onClick={feed.clear} disabled={feed.entries.length === 0}>{t('feed.clear')}</button>
      </div>
      {feed.refused.length > 0 && <p className="note note-warn">{t('feed.refusedTopics', { topics: feed.refused.join(', ') })}</p>}
      {feed.gapFilled > 0 && <p className="note" data-testid="gap-filled">{t('feed.gapFilled', { count: feed.gapFilled })}</p>}
      {feed.notice !== '' && <p className="note note-warn">{t('feed.notice', { text: feed.notice })}</p>}
      {feed.entries.length === 0
        ? <p className="empty">{t('feed.empty')}</p>
        : <div className="signals" data-testid="feed">{feed.entries.map((e) => <SignalCard key={`${e.signal.strategy_id}:${e.signal.seq}`} signal={e.signal} source={e.source} />)}</div>}
    </section>
  )
}
