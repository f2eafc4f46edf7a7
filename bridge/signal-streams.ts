import type { Request, Response } from 'express'
import type { Change } from '../core/change-bus'
import type { Core } from '../core/core'
import { logger } from '../core/logger'
import type { Principal } from '../core/principal'
import type { HistoryFilter, HistoryPosition, SignalHistory } from '../core/signals/signal-history'
import { encodeSignal, type SignalView } from '../core/signals/signal-service'

export interface StreamFilter {
  strategyId?: string
  symbol?: string
  type?: string
}

export interface SignalStreamsOptions {
  /** Milliseconds between heartbeat comments; proxies close connections idle for long. */
  heartbeatMs?: number
  /** Bytes a client may fall behind before its stream is ended (it resumes with Last-Event-ID). */
  maxBufferedBytes?: number
}

interface StreamClient {
  principal: Principal
  filter: StreamFilter
  res: Response
  /** Last seq sent per strategy, so catch-up and live delivery never repeat a signal. */
  sent: Map<string, number>
  /** Live signals held while the catch-up runs; null once live. */
  held: SignalView[] | null
}

const LAST_EVENT_ID = /^([A-Za-z0-9_.-]{1,64}):(\d{1,15})$/
const CATCH_UP_PAGE = 500

/** The position in an SSE `Last-Event-ID` (`<strategy_id>:<seq>`), or null when it is not one. */
export function parseLastEventId(text: string): HistoryPosition | null {
  const match = LAST_EVENT_ID.exec(text)
  return match === null ? null : { strategyId: match[1], seq: Number(match[2]) }
}

/** One signal as a Server-Sent Event. */
export function formatEvent(view: SignalView): string {
  return `id: ${view.strategy_id}:${view.seq}\nevent: signal\ndata: ${encodeSignal(view).toString('utf8')}\n\n`
}

/**
 * The open `GET /api/v1/signals/stream` connections of this node. Live signals come from
 * the signal service's `published` event; each is sent only to clients whose filter it
 * matches and who may read it under the policy of the moment. A client resuming with
 * `Last-Event-ID` first gets what it missed from the history, then live signals, with
 * none repeated. Clients whose key is revoked or user disabled are disconnected.
 */
export class SignalStreams {
  private readonly clients = new Set<StreamClient>()
  private readonly heartbeat: NodeJS.Timeout
  private readonly heartbeatMs: number
  private readonly maxBufferedBytes: number
  private readonly onPublished = (views: SignalView[]): void => {
    for (const client of this.clients) {
      if (client.held !== null) client.held.push(...views)
      else for (const view of views) this.deliver(client, view)
    }
  }

  private readonly onChange = (change: Change): void => {
    if (change.kind !== 'key' && change.kind !== 'user') return
    for (const client of this.clients) {
      if (client.principal.userId !== change.userId) continue
      this.core.keys.stillValid(client.principal).then((valid) => {
        if (!valid) this.end(client)
      }, (err: unknown) => logger.warn('sse: could not recheck a key', { err: (err as Error).message }))
    }
  }

  constructor(private readonly core: Core, private readonly history: SignalHistory, options: SignalStreamsOptions = {}) {
    this.heartbeatMs = options.heartbeatMs ?? 15_000
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024
    core.signals.on('published', this.onPublished)
    core.bus.on('change', this.onChange)
    this.heartbeat = setInterval(() => {
      for (const client of this.clients) this.write(client, ': heartbeat\n\n')
    }, this.heartbeatMs)
    this.heartbeat.unref()
  }

  get size(): number {
    return this.clients.size
  }

  /**
   * Opens a stream on `res`. Throws (before any byte is sent) when the filter names a
   * strategy the caller may not read; otherwise resolves once the catch-up is sent.
   */
  async open(req: Request, res: Response, principal: Principal, filter: StreamFilter, resumeFrom: HistoryPosition | null): Promise<void> {
    await this.history.readableScope(principal, filter)
    const client: StreamClient = { principal, filter, res, sent: new Map(), held: [] }
    res.status(200)
    res.set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', 'X-Accel-Buffering': 'no', Connection: 'keep-alive' })
    res.flushHeaders()
    res.write(`retry: 3000\n: stream open, heartbeat every ${Math.round(this.heartbeatMs / 1000)} s\n\n`)
    this.clients.add(client)
    req.on('close', () => this.clients.delete(client))
    if (resumeFrom !== null) {
      try {
        await this.catchUp(client, resumeFrom)
      } catch (err) {
        logger.warn('sse: catch-up failed; ending the stream', { requestId: res.locals.requestId, err: (err as Error).message })
        this.end(client)
        return
      }
    }
    const held = client.held ?? []
    client.held = null
    for (const view of held) this.deliver(client, view)
  }

  /** Sends what was stored after `from`: in storage order from that signal, or that strategy's later seqs if it is gone. */
  private async catchUp(client: StreamClient, from: HistoryPosition): Promise<void> {
    const filter: HistoryFilter = { ...client.filter }
    const anchor = await this.history.idOf(from)
    client.sent.set(from.strategyId, from.seq)
    if (anchor === null) {
      if (filter.strategyId !== undefined && filter.strategyId !== from.strategyId) return
      let after: HistoryPosition | undefined = from
      while (after !== undefined && this.clients.has(client)) {
        const page = await this.history.page(client.principal, { ...filter, strategyId: from.strategyId }, { limit: CATCH_UP_PAGE, after })
        for (const view of page.data) this.deliver(client, view)
        after = page.next ?? undefined
      }
      return
    }
    let afterId = anchor
    while (this.clients.has(client)) {
      const views = await this.history.since(client.principal, filter, { afterId, limit: CATCH_UP_PAGE })
      for (const view of views) this.deliver(client, view)
      if (views.length < CATCH_UP_PAGE) return
      afterId = views[views.length - 1].id
    }
  }

  private deliver(client: StreamClient, view: SignalView): void {
    const { strategyId, symbol, type } = client.filter
    if (strategyId !== undefined && view.strategy_id !== strategyId) return
    if (symbol !== undefined && view.symbol !== symbol) return
    if (type !== undefined && view.type !== type) return
    if (view.seq <= (client.sent.get(view.strategy_id) ?? 0)) return
    if (!this.core.policy.current.can(client.principal, 'read', `strategy/${view.strategy_id}/${view.symbol}`)) return
    client.sent.set(view.strategy_id, view.seq)
    this.write(client, formatEvent(view))
  }

  private write(client: StreamClient, text: string): void {
    if (client.res.writableEnded) return
    if (client.res.writableLength > this.maxBufferedBytes) {
      logger.warn('sse: client too slow; ending its stream', { requestId: client.res.locals.requestId, user: client.principal.userId })
      this.end(client)
      return
    }
    client.res.write(text)
  }

  private end(client: StreamClient): void {
    this.clients.delete(client)
    if (!client.res.writableEnded) client.res.end()
  }

  /** Ends every stream and stops listening. */
  close(): void {
    clearInterval(this.heartbeat)
    this.core.signals.off('published', this.onPublished)
    this.core.bus.off('change', this.onChange)
    for (const client of [...this.clients]) this.end(client)
  }
}
