import type { Signal } from '../../models/signal.model'

/** A signal on the wire (MQTT payload, REST body, SSE data). */
export interface SignalView {
  id: number
  seq: number
  strategy_id: string
  symbol: string
  type: string
  execute_date: string
  description: string
  payload: unknown
  publisher: number | null
  created_at: string
}

export function signalTopic(strategyId: string, symbol: string): string {
  return `strategy/${strategyId}/${symbol}`
}

/** The stored columns a view is made of: a `Signal` instance, or the row just inserted with its id. */
export type SignalRow = Pick<Signal, 'id' | 'seq' | 'strategy_id' | 'symbol' | 'type' | 'execute_date' | 'description' | 'payload' | 'publisher_id' | 'created_at'>

export function toSignalView(s: SignalRow): SignalView {
  return {
    id: s.id,
    seq: s.seq,
    strategy_id: s.strategy_id,
    symbol: s.symbol,
    type: s.type,
    execute_date: s.execute_date.toISOString(),
    description: s.description,
    payload: s.payload === null ? null : JSON.parse(s.payload) as unknown,
    publisher: s.publisher_id,
    created_at: s.created_at.toISOString()
  }
}

/** The canonical JSON of a signal: fixed key order, so every door sends the same bytes. */
export function encodeSignal(view: SignalView): Buffer {
  return Buffer.from(JSON.stringify({
    id: view.id,
    seq: view.seq,
    strategy_id: view.strategy_id,
    symbol: view.symbol,
    type: view.type,
    execute_date: view.execute_date,
    description: view.description,
    payload: view.payload,
    publisher: view.publisher,
    created_at: view.created_at
  }))
}
