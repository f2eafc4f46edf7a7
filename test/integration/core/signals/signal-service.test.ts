import type { Core } from '../../../../core/core'
import type { Principal } from '../../../../core/principal'
import type { MessageSink, SignalView } from '../../../../core/signals/signal-service'
import { toSignalView } from '../../../../core/signals/signal-view'
import type { Models } from '../../../../models/database'
import type { TestActor } from '../../../helpers/fixtures'
import { startCore, type TestNode } from '../../../helpers/node'

interface Delivered { topic: string, body: SignalView, qos: number, retain: boolean }

/** The broker's side of the hand-off, recorded; `failNext` simulates a broker that is down. */
class RecordingSink implements MessageSink {
  delivered: Delivered[] = []
  failNext = 0
  async publish(topic: string, payload: Buffer, options: { qos: 0 | 1, retain: boolean }): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--
      throw new Error('broker unavailable')
    }
    this.delivered.push({ topic, body: JSON.parse(payload.toString()) as SignalView, ...options })
  }
}

describe('SignalService', () => {
  let node: TestNode
  let core: Core
  let sink: RecordingSink
  let ownerActor: TestActor
  let owner: Principal
  let other: Principal
  let admin: Principal

  /** The stored rows, read on the test's own connection. */
  const stored = (): Models => node.database().models

  const signal = (over: Record<string, unknown> = {}) => ({
    strategy_id: 'alpha', symbol: 'AAPL', type: 'buy', execute_date: '2026-11-21T09:30:00', description: 'enter', ...over
  })

  beforeEach(async () => {
    node = await startCore({ TZ_DEFAULT: 'Asia/Shanghai' })
    core = node.core
    sink = new RecordingSink()
    core.signals.setSink(sink)
    ownerActor = await node.actor('owner', 'publisher')
    const otherActor = await node.actor('other', 'publisher')
    owner = ownerActor.principal
    other = otherActor.principal
    admin = (await node.actor('root', 'admin')).principal
    await node.strategy('alpha', ownerActor)
    await node.strategy('beta', otherActor)
  })

  afterEach(async () => {
    await node.shutdown()
  })

  const ingest = (p: Principal, body: unknown, idempotencyKey?: string) => {
    const { items, batch } = core.signals.parseRestBody(body)
    return core.signals.ingest(p, items, { source: 'rest', batch, idempotencyKey })
  }

  test('ingest of one signal stores it with seq 1 and hands the canonical JSON to the broker, retained', async () => {
    const { signals, replayed } = await ingest(owner, signal({ payload: { price: 1.5 } }))
    expect(replayed).toBe(false)
    expect(signals[0]).toMatchObject({ seq: 1, strategy_id: 'alpha', symbol: 'AAPL', type: 'buy', publisher: owner.userId, payload: { price: 1.5 } })
    expect(signals[0].execute_date).toBe('2026-11-21T01:30:00.000Z')
    expect(sink.delivered).toEqual([{ topic: 'strategy/alpha/AAPL', body: signals[0], qos: 1, retain: true }])
    expect(Object.keys(sink.delivered[0].body)).toEqual(['id', 'seq', 'strategy_id', 'symbol', 'type', 'execute_date', 'description', 'payload', 'publisher', 'created_at'])
    await core.signals.settled()
    expect(await stored().SignalOutbox.findByPk(signals[0].id)).toBeNull()
  })

  test('ingest keeps the milliseconds of execute_date through the database', async () => {
    const { signals } = await ingest(owner, signal({ execute_date: '2026-11-21T09:30:00.123+08:00' }))
    expect(signals[0].execute_date).toBe('2026-11-21T01:30:00.123Z')
    const row = await stored().Signal.findByPk(signals[0].id)
    expect(row?.execute_date.toISOString()).toBe('2026-11-21T01:30:00.123Z')
  })

  test('ingest of a batch across strategies numbers each strategy from its own last seq, in request order', async () => {
    await ingest(owner, signal())
    const { signals } = await ingest(admin, { signals: [signal(), signal({ strategy_id: 'beta' }), signal({ symbol: 'MSFT' })] })
    expect(signals.map((s) => [s.strategy_id, s.seq])).toEqual([['alpha', 2], ['beta', 1], ['alpha', 3]])
    expect(sink.delivered.map((d) => d.body.seq)).toEqual([1, 2, 1, 3])
  })

  test('ingest concurrently on one strategy yields seqs 1..N with no gap and no repeat', async () => {
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => ingest(owner, signal({ description: `n${i}` }))))
    const seqs = results.map((r) => r.signals[0].seq).sort((a, b) => a - b)
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    const strategy = await stored().Strategy.findByPk('alpha')
    expect(strategy?.last_seq).toBe(40)
  })

  /** Every answered view is exactly the stored row it names (id, seq and every field). */
  async function expectViewsStored(views: SignalView[]): Promise<void> {
    const rows = await stored().Signal.findAll({ where: { id: views.map((v) => v.id) } })
    const byId = new Map(rows.map((r) => [r.id, toSignalView(r)]))
    expect(views.map((v) => byId.get(v.id))).toEqual(views)
  }

  /** The outbox holds exactly these signals. */
  async function expectWaiting(views: SignalView[]): Promise<void> {
    const rows = await stored().SignalOutbox.findAll()
    expect(rows.map((r) => r.signal_id).sort((a, b) => a - b)).toEqual(views.map((v) => v.id).sort((a, b) => a - b))
  }

  const concurrentMixedIngest = async () => {
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => i % 3 === 0
      ? ingest(admin, { signals: [signal({ description: `a${i}` }), signal({ strategy_id: 'beta', symbol: `S${i}` }), signal({ description: `c${i}`, payload: { i } })] })
      : ingest(i % 2 === 0 ? owner : other, signal({ strategy_id: i % 2 === 0 ? 'alpha' : 'beta', description: `n${i}`, payload: [i, 'x'] }))))
    return results.flatMap((r) => r.signals)
  }

  test('concurrent requests grouped into one write each get their own rows back: ids, seqs and fields as stored', async () => {
    const views = await concurrentMixedIngest()
    expect(new Set(views.map((v) => v.id)).size).toBe(views.length)
    await expectViewsStored(views)
  })

  test('each group puts exactly its signals in the outbox, in the same transaction', async () => {
    sink.failNext = 1000
    const views = await concurrentMixedIngest()
    await expectWaiting(views)
  })

  test('a strategy deleted behind the policy\'s back fails only its own requests: nothing of them stored, the rest of the group written', async () => {
    await node.strategy('doomed', ownerActor)
    await ingest(owner, signal())
    // deleted in the database while this node's policy snapshot still lists it
    expect(await node.database().update('DELETE FROM strategies WHERE id = $1', ['doomed'])).toBe(1)
    const outcomes = await Promise.allSettled([
      ingest(owner, signal({ description: 'kept 1' })),
      ingest(owner, signal({ strategy_id: 'doomed' })),
      ingest(owner, signal({ description: 'kept 2' })),
      ingest(owner, signal({ description: 'kept 3' }))
    ])
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled'])
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'validation_failed' })
    const rows = await stored().Signal.findAll({ order: [['seq', 'ASC']] })
    expect(rows.map((r) => [r.strategy_id, r.seq])).toEqual([['alpha', 1], ['alpha', 2], ['alpha', 3], ['alpha', 4]])
    expect((await stored().Strategy.findByPk('alpha'))?.last_seq).toBe(4)
  })

  test('published marks are written in the background and settled() waits for them', async () => {
    const { signals } = await ingest(owner, signal())
    await core.signals.settled()
    expect(await stored().SignalOutbox.findByPk(signals[0].id)).toBeNull()
    expect(await stored().SignalOutbox.count()).toBe(0)
  })

  test('ingest to another owner\'s strategy is forbidden and stores nothing', async () => {
    await expect(ingest(other, signal())).rejects.toMatchObject({ code: 'forbidden' })
    expect(await stored().Signal.count()).toBe(0)
    expect(sink.delivered).toHaveLength(0)
  })

  test('ingest to an unknown strategy is a validation error naming the field', async () => {
    await expect(ingest(admin, signal({ strategy_id: 'ghost' }))).rejects.toMatchObject({ code: 'validation_failed', issues: [{ path: 'strategy_id', message: 'unknown strategy ghost' }] })
  })

  test('a batch with one forbidden item stores none of them', async () => {
    await expect(ingest(owner, { signals: [signal(), signal({ strategy_id: 'beta' })] })).rejects.toMatchObject({ code: 'forbidden' })
    expect(await stored().Signal.count()).toBe(0)
  })

  test('a batch with invalid items reports each item\'s path and stores nothing', async () => {
    expect(() => core.signals.parseRestBody({ signals: [signal(), signal({ type: 'yolo' }), signal({ symbol: 'A/B' })] })).toThrow(
      expect.objectContaining({ code: 'validation_failed', issues: [expect.objectContaining({ path: 'signals.1.type' }), expect.objectContaining({ path: 'signals.2.symbol' })] })
    )
  })

  test('the same idempotency key and body returns the first result and publishes nothing new', async () => {
    const first = await ingest(owner, signal(), 'k-1')
    const again = await ingest(owner, signal(), 'k-1')
    expect(again.replayed).toBe(true)
    expect(again.signals).toEqual(first.signals)
    expect(sink.delivered).toHaveLength(1)
    expect(await stored().Signal.count()).toBe(1)
  })

  test('the same idempotency key with a different body is a conflict', async () => {
    await ingest(owner, signal(), 'k-1')
    await expect(ingest(owner, signal({ type: 'sell' }), 'k-1')).rejects.toMatchObject({ code: 'idempotency_conflict' })
  })

  test('the same idempotency key from another user is independent', async () => {
    await ingest(owner, signal(), 'k-1')
    const { replayed } = await ingest(other, signal({ strategy_id: 'beta' }), 'k-1')
    expect(replayed).toBe(false)
  })

  test('concurrent requests with one idempotency key store once', async () => {
    const results = await Promise.all([ingest(owner, signal(), 'k-race'), ingest(owner, signal(), 'k-race'), ingest(owner, signal(), 'k-race')])
    expect(new Set(results.map((r) => r.signals[0].id)).size).toBe(1)
    expect(await stored().Signal.count()).toBe(1)
  })

  test('a signal whose hand-off fails stays in the outbox and the outbox sweep delivers it later', async () => {
    sink.failNext = 1
    const { signals } = await ingest(owner, signal())
    expect(sink.delivered).toHaveLength(0)
    expect(await stored().SignalOutbox.findByPk(signals[0].id)).not.toBeNull()
    expect(await core.outbox.sweep(0)).toBe(1)
    expect(sink.delivered.map((d) => d.body.id)).toEqual([signals[0].id])
    expect(await core.outbox.sweep(0)).toBe(0)
  })

  test('parseMqttPayload takes strategy and symbol from the topic and the idempotency key from the body', () => {
    const { item, idempotencyKey } = core.signals.parseMqttPayload('alpha', 'AAPL', Buffer.from(JSON.stringify({ type: 'sell', execute_date: '2026-11-21', idempotency_key: 'm-1' })))
    expect(item).toMatchObject({ strategy_id: 'alpha', symbol: 'AAPL', type: 'sell', description: '', payload: null })
    expect(idempotencyKey).toBe('m-1')
  })

  test.each([
    ['not json', 'the payload is not JSON'],
    ['{"type":"buy"}', 'invalid signal'],
    ['{"type":"buy","execute_date":"2026-11-21","strategy_id":"x"}', 'invalid signal'],
    ['[]', 'invalid signal']
  ])('parseMqttPayload(%s) refuses it: %s', (payload, detail) => {
    expect(() => core.signals.parseMqttPayload('alpha', 'AAPL', Buffer.from(payload))).toThrow(expect.objectContaining({ code: 'validation_failed', message: detail }))
  })

  test('the audit trail records ingest with the caller and never the payload', async () => {
    await ingest(owner, signal({ payload: { secret_sauce: 42 } }))
    await core.audit.flush()
    const rows = await stored().AuditLog.findAll({ where: { action: 'signal.ingest' } })
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ user_id: owner.userId, result: 'ok', resource: 'strategy/alpha' })
    expect(rows[0].detail).not.toContain('secret_sauce')
  })
})
