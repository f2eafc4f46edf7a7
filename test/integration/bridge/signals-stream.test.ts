import { cliContext } from '../../../core/action-context'
import { startBridge, type TestBridge } from '../../helpers/bridge'
import type { TestUser } from '../../helpers/fixtures'
import { call } from '../../helpers/http'
import { within } from '../../helpers/wait'
import { openSse, type SseClient } from './sse-client'

let bridge: TestBridge
let publisher: TestUser
let reader: TestUser
let outsider: TestUser
const open: SseClient[] = []

const signal = (symbol: string, type = 'buy'): Record<string, string> => ({ strategy_id: 'live', symbol, type, execute_date: '2026-06-01T10:00:00Z' })

async function stream(user: TestUser, query = '', headers: Record<string, string> = {}): Promise<SseClient> {
  const client = await openSse(`${bridge.baseUrl}/api/v1/signals/stream${query}`, { authorization: `Bearer ${user.key}`, ...headers })
  open.push(client)
  return client
}

beforeAll(async () => {
  bridge = await startBridge()
  publisher = await bridge.user('pub', 'publisher')
  reader = await bridge.user('reader', 'subscriber')
  outsider = await bridge.user('outsider', 'subscriber')
  await bridge.strategy('live', publisher)
  await bridge.strategy('other', publisher)
  await bridge.subscribe(reader, 'live')
})
afterEach(() => { for (const c of open.splice(0)) c.close() })
afterAll(async () => { await bridge.shutdown() })

test('a reader receives new signals as events with id <strategy_id>:<seq> and canonical JSON data', async () => {
  const client = await stream(reader)
  expect(client.status).toBe(200)
  expect(client.headers.get('content-type')).toMatch(/^text\/event-stream/)
  const posted = await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: signal('AAA') })
  const [event] = await client.waitFor(1)
  expect(event.event).toBe('signal')
  expect(event.id).toBe(`live:${posted.body.seq}`)
  expect(event.data).toBe(bridge.published[bridge.published.length - 1].payload)
  expect(JSON.parse(event.data)).toEqual(posted.body)
})

test('an unentitled caller receives nothing; a named strategy it cannot read is refused', async () => {
  const refused = await call(bridge, 'GET', '/api/v1/signals/stream?strategy_id=live', { key: outsider.key })
  expect(refused.status).toBe(403)
  await bridge.subscribe(outsider, 'other')
  const client = await stream(outsider)
  await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: signal('BBB') })
  // a later signal it may read: the first would have come before it on the same stream
  await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: { ...signal('BBB'), strategy_id: 'other' } })
  const [event] = await client.waitFor(1)
  expect(JSON.parse(event.data)).toMatchObject({ strategy_id: 'other' })
  expect(client.events).toHaveLength(1)
})

test('filters by strategy_id and symbol', async () => {
  const client = await stream(publisher, '?strategy_id=live&symbol=CCC')
  await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: { signals: [signal('AAA'), { ...signal('CCC'), strategy_id: 'other' }, signal('CCC')] } })
  // a later signal the filter lets through: everything before it has been sent or dropped by then
  await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: { ...signal('CCC'), description: 'marker' } })
  const events = await client.waitFor(2)
  expect(events.map((e) => JSON.parse(e.data) as Record<string, unknown>)).toEqual([
    expect.objectContaining({ strategy_id: 'live', symbol: 'CCC', description: '' }),
    expect.objectContaining({ strategy_id: 'live', symbol: 'CCC', description: 'marker' })
  ])
})

test('resumes from Last-Event-ID through history, then live, without repeats', async () => {
  const posted = await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: { signals: Array.from({ length: 5 }, (_, i) => signal(`R${i}`)) } })
  const seqs: number[] = posted.body.signals.map((s: { seq: number }) => s.seq)
  const client = await stream(reader, '?strategy_id=live', { 'last-event-id': `live:${seqs[1]}` })
  const caught = await client.waitFor(3)
  expect(caught.map((e) => e.id)).toEqual(seqs.slice(2).map((s) => `live:${s}`))
  const next = await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: signal('R5') })
  const events = await client.waitFor(4)
  expect(events[3].id).toBe(`live:${next.body.seq}`)
  expect(new Set(client.events.map((e) => e.id)).size).toBe(client.events.length)
})

test('resumes with last_event_id in the query for clients that cannot set headers', async () => {
  const posted = await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: { signals: [signal('Q1'), signal('Q2')] } })
  const first = posted.body.signals[0].seq as number
  const client = await stream(reader, `?strategy_id=live&last_event_id=live:${first}`)
  const [event] = await client.waitFor(1)
  expect(event.id).toBe(`live:${first + 1}`)
})

test('a revoked key\'s stream is ended', async () => {
  const victim = await bridge.user('victim', 'subscriber')
  await bridge.subscribe(victim, 'live')
  const client = await stream(victim)
  await call(bridge, 'POST', '/api/v1/signals', { key: publisher.key, body: signal('V1') })
  await client.waitFor(1)
  await bridge.core.apiKeys.revoke(cliContext(), victim.keyId)
  await within(client.ended, 3000, 'the revoked key\'s stream ending')
})

test('close() ends every open stream', async () => {
  const extra = await startBridge()
  const user = await extra.user('admin', 'admin')
  try {
    const client = await openSse(`${extra.baseUrl}/api/v1/signals/stream`, { authorization: `Bearer ${user.key}` })
    expect(client.status).toBe(200)
    extra.http.close()
    await within(client.ended, 3000, 'the stream ending')
  } finally {
    await extra.shutdown()
  }
})
