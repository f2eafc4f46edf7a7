import mqtt from 'mqtt'
import type { ISubscriptionGrant, MqttClient } from 'mqtt'
import type { Signal } from './types'

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'refused'

/** A strategy the user reads: all of it (`symbols` null) or some symbols; `contiguous` = every seq up to it is known. */
export interface Reading {
  strategyId: string
  symbols: string[] | null
  contiguous: number | null
}

export type EntrySource = 'live' | 'retained' | 'history'

export interface FeedEntry {
  signal: Signal
  source: EntrySource
}

export interface LiveFeedListener {
  onSignals(entries: FeedEntry[]): void
  onState(state: ConnectionState, detail?: string): void
  onRefused(topics: string[]): void
  onNotice(text: string): void
  onGapFilled(count: number): void
}

export interface LiveFeedOptions {
  /** ws(s)://host/mqtt */
  url: string
  username: string
  key: string
  userId: number
  /** Signals of a strategy stored after `afterSeq` (optionally of some symbols), oldest first. */
  history(strategyId: string, afterSeq: number, symbols: string[] | null): Promise<Signal[]>
  listener: LiveFeedListener
}

const RECONNECT_MS = 3000

export function topicsOf(readings: Iterable<Reading>): string[] {
  const topics: string[] = []
  for (const r of readings) {
    if (r.symbols === null) topics.push(`strategy/${r.strategyId}/#`)
    else for (const symbol of r.symbols) topics.push(`strategy/${r.strategyId}/${symbol}`)
  }
  return topics
}

export function isSignal(value: unknown): value is Signal {
  const v = value as Partial<Signal> | null
  return typeof v === 'object' && v !== null && typeof v.seq === 'number' && typeof v.strategy_id === 'string' && typeof v.symbol === 'string'
}

export function webSocketUrl(location: Location): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/mqtt`
}

/**
 * The live side of the console: one MQTT-over-WebSocket connection (clean session) that
 * subscribes per strategy — wide wildcards are refused to non-admins — and keeps each fully
 * read strategy's `seq` contiguous by fetching whatever it missed from history.
 */
export class LiveFeed {
  private client: MqttClient | null = null
  private readonly readings = new Map<string, Reading>()
  private readonly seen = new Set<string>()
  private readonly filling = new Map<string, Promise<void>>()
  private subscribed = new Set<string>()
  private connectedBefore = false
  private stopped = false

  constructor(private readonly options: LiveFeedOptions) {}

  private get noticesTopic(): string {
    return `users/${this.options.userId}/notices`
  }

  start(): void {
    const { url, username, key, userId, listener } = this.options
    listener.onState('connecting')
    const client = mqtt.connect(url, {
      username,
      password: key,
      clientId: `console-${userId}-${Math.random().toString(36).slice(2, 10)}`,
      clean: true,
      protocolVersion: 4,
      reconnectPeriod: RECONNECT_MS,
      connectTimeout: 10_000,
      resubscribe: false,
      // MQTT.js' default timers run in a blob: Worker, which a CSP without worker-src blob: refuses
      timerVariant: 'native',
      forceNativeWebSocket: true
    })
    this.client = client
    client.on('connect', () => {
      listener.onState('connected')
      this.subscribed = new Set()
      this.sync()
      if (this.connectedBefore) for (const id of this.readings.keys()) this.catchUp(id, null)
      this.connectedBefore = true
    })
    client.on('reconnect', () => listener.onState('reconnecting'))
    client.on('offline', () => { if (!this.stopped) listener.onState('offline') })
    client.on('error', (err: Error & { code?: number }) => {
      // CONNACK 4/5: the key no longer works; retrying would only count failed logins
      if (err.code === 4 || err.code === 5 || err.code === 2) {
        listener.onState('refused', err.message)
        client.end(true)
      }
    })
    client.on('message', (topic, payload, packet) => this.receive(topic, payload.toString(), packet.retain))
  }

  stop(): void {
    this.stopped = true
    this.client?.end(true)
    this.client = null
  }

  /** Replaces what is read; topics no longer read are unsubscribed, new ones subscribed. */
  setReadings(readings: Reading[]): void {
    const next = new Map(readings.map((r) => [r.strategyId, r]))
    for (const id of this.readings.keys()) if (!next.has(id)) this.readings.delete(id)
    for (const r of readings) {
      const known = this.readings.get(r.strategyId)
      const contiguous = known?.contiguous === null || known === undefined ? r.contiguous : Math.max(known.contiguous, r.contiguous ?? 0)
      this.readings.set(r.strategyId, { ...r, contiguous })
    }
    this.sync()
  }

  topics(): string[] {
    return topicsOf(this.readings.values())
  }

  private sync(): void {
    const client = this.client
    if (client === null || !client.connected) return
    const wanted = new Set([...this.topics(), this.noticesTopic])
    const gone = [...this.subscribed].filter((t) => !wanted.has(t))
    const added = [...wanted].filter((t) => !this.subscribed.has(t))
    if (gone.length > 0) client.unsubscribe(gone)
    for (const t of gone) this.subscribed.delete(t)
    if (added.length === 0) return
    for (const t of added) this.subscribed.add(t)
    client.subscribe(added, { qos: 1 }, (err, granted?: ISubscriptionGrant[]) => {
      if (err !== null && err !== undefined) return
      const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic)
      for (const t of refused) this.subscribed.delete(t)
      if (refused.length > 0) this.options.listener.onRefused(refused)
    })
  }

  private receive(topic: string, text: string, retain: boolean): void {
    let message: unknown
    try {
      message = JSON.parse(text)
    } catch {
      return
    }
    if (topic === this.noticesTopic) {
      const notice = message as { type?: string, detail?: string, topics?: string[] }
      this.options.listener.onNotice([notice.type, notice.detail ?? notice.topics?.join(', ')].filter(Boolean).join(': '))
      return
    }
    if (!isSignal(message)) return
    const signal = message
    if (!this.remember(signal)) return
    this.options.listener.onSignals([{ signal, source: retain ? 'retained' : 'live' }])
    const reading = this.readings.get(signal.strategy_id)
    if (reading === undefined) return
    if (reading.contiguous === null) {
      reading.contiguous = signal.seq
    } else if (reading.symbols === null && signal.seq > reading.contiguous + 1) {
      this.catchUp(signal.strategy_id, signal.seq)
    } else if (signal.seq === reading.contiguous + 1 || reading.symbols !== null) {
      reading.contiguous = Math.max(reading.contiguous, signal.seq)
    }
  }

  /** False when this (strategy, seq) was already shown: delivery is at least once. */
  private remember(signal: Signal): boolean {
    const id = `${signal.strategy_id}:${signal.seq}`
    if (this.seen.has(id)) return false
    this.seen.add(id)
    return true
  }

  /** Reads what the strategy stored after `contiguous`, one fill at a time per strategy. */
  private catchUp(strategyId: string, triggeredBy: number | null): void {
    const previous = this.filling.get(strategyId) ?? Promise.resolve()
    const next = previous.then(async () => {
      const reading = this.readings.get(strategyId)
      if (reading === undefined || reading.contiguous === null || this.stopped) return
      if (triggeredBy !== null && triggeredBy <= reading.contiguous + 1) return
      const missed = await this.options.history(strategyId, reading.contiguous, reading.symbols)
      const fresh = missed.filter((s) => this.remember(s))
      const highest = Math.max(reading.contiguous, triggeredBy ?? 0, ...missed.map((s) => s.seq))
      reading.contiguous = highest
      if (fresh.length > 0) {
        this.options.listener.onSignals(fresh.map((signal) => ({ signal, source: 'history' })))
        this.options.listener.onGapFilled(fresh.length)
      }
    }).catch(() => undefined)
    this.filling.set(strategyId, next)
  }
}
