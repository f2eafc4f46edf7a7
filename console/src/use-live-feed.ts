import { useEffect, useRef, useState } from 'react'
import { readAll, type ApiClient } from './api'
import { LiveFeed, webSocketUrl, type ConnectionState, type FeedEntry, type Reading } from './live-feed'
import type { Me, Page, Signal, Strategy, Subscription } from './types'

const MAX_ENTRIES = 300
const HISTORY_PAGE = 500

export interface FeedModel {
  entries: FeedEntry[]
  state: ConnectionState
  detail: string
  topics: string[]
  refused: string[]
  notice: string
  gapFilled: number
  clear(): void
}

/** What the user reads: every strategy for admins and owners, otherwise their active subscriptions. */
export async function loadReadings(api: ApiClient, me: Me): Promise<Reading[]> {
  const admin = me.user.role === 'admin'
  const strategies = await readAll<Strategy>(api, '/strategies')
  const byId = new Map(strategies.map((s) => [s.id, s]))
  const readings = new Map<string, Reading>()
  for (const s of strategies) {
    if (admin || s.owner_id === me.user.id) readings.set(s.id, { strategyId: s.id, symbols: null, contiguous: s.last_seq })
  }
  if (!admin) {
    const subscriptions = await readAll<Subscription>(api, '/subscriptions')
    for (const sub of subscriptions) {
      if (sub.status !== 'active' || readings.get(sub.strategy_id)?.symbols === null) continue
      readings.set(sub.strategy_id, { strategyId: sub.strategy_id, symbols: sub.symbols, contiguous: byId.get(sub.strategy_id)?.last_seq ?? null })
    }
  }
  return [...readings.values()]
}

async function historyAfter(api: ApiClient, strategyId: string, afterSeq: number, symbols: string[] | null): Promise<Signal[]> {
  const read = (symbol?: string): Promise<Page<Signal>> => api.get<Page<Signal>>('/signals', { strategy_id: strategyId, after_seq: afterSeq, symbol, limit: HISTORY_PAGE })
  if (symbols === null) return (await read()).data
  const pages = await Promise.all(symbols.map((symbol) => read(symbol)))
  return pages.flatMap((p) => p.data).sort((a, b) => a.seq - b.seq)
}

function newestFirst(a: FeedEntry, b: FeedEntry): number {
  return b.signal.created_at.localeCompare(a.signal.created_at) || b.signal.seq - a.signal.seq
}

/** One live feed per signed-in session, kept while the user moves between tabs; `planVersion` re-reads what to subscribe. */
export function useLiveFeed(api: ApiClient | null, me: Me | null, key: string | null, planVersion: number): FeedModel {
  const feedRef = useRef<LiveFeed | null>(null)
  const [entries, setEntries] = useState<FeedEntry[]>([])
  const [state, setState] = useState<ConnectionState>('idle')
  const [detail, setDetail] = useState('')
  const [topics, setTopics] = useState<string[]>([])
  const [refused, setRefused] = useState<string[]>([])
  const [notice, setNotice] = useState('')
  const [gapFilled, setGapFilled] = useState(0)

  useEffect(() => {
    if (api === null || me === null || key === null) return
    const feed = new LiveFeed({
      url: webSocketUrl(window.location),
      username: me.user.name,
      key,
      userId: me.user.id,
      history: (strategyId, afterSeq, symbols) => historyAfter(api, strategyId, afterSeq, symbols),
      listener: {
        onSignals: (added) => setEntries((old) => [...added, ...old].sort(newestFirst).slice(0, MAX_ENTRIES)),
        onState: (s, d) => { setState(s); setDetail(d ?? '') },
        onRefused: (t) => setRefused((old) => [...new Set([...old, ...t])]),
        onNotice: setNotice,
        onGapFilled: (n) => setGapFilled((old) => old + n)
      }
    })
    feedRef.current = feed
    feed.start()
    return () => {
      feed.stop()
      feedRef.current = null
      setEntries([])
      setState('idle')
      setTopics([])
      setRefused([])
      setNotice('')
      setGapFilled(0)
    }
  }, [api, me, key])

  useEffect(() => {
    if (api === null || me === null) return
    let cancelled = false
    loadReadings(api, me).then((readings) => {
      if (cancelled || feedRef.current === null) return
      feedRef.current.setReadings(readings)
      setTopics(feedRef.current.topics())
      setRefused([])
    }, (err: unknown) => { if (!cancelled) setNotice((err as Error).message) })
    return () => { cancelled = true }
  }, [api, me, planVersion])

  return { entries, state, detail, topics, refused, notice, gapFilled, clear: () => setEntries([]) }
}
