import { Outbox } from '../../core/signals/outbox'
import type { MessageSink } from '../../core/signals/signal-service'
import { uniqueId } from '../helpers/fixtures'
import { startTestHub, type TestHub, type TestUser } from '../helpers/hub'
import { Inbox, subscribe, TestClients } from '../helpers/mqtt-clients'
import { waitFor } from '../helpers/wait'
import { postSignal, signal } from './helpers'

const failingSink: MessageSink = { publish: () => Promise.reject(new Error('fan-out down')) }

describe('outbox', () => {
  const clients = new TestClients()
  let hub: TestHub
  let owner: TestUser
  let reader: TestUser
  let strategy: string

  beforeEach(async () => {
    hub = await startTestHub()
    owner = await hub.user(uniqueId('owner'), 'publisher')
    reader = await hub.user(uniqueId('reader'))
    strategy = uniqueId('obx')
    await hub.strategy(strategy, owner)
    await hub.subscribe(reader, strategy)
  })
  afterEach(async () => {
    await clients.endAll()
    await hub.shutdown()
  })

  /**
   * An outbox to sweep on demand, on the test's connection to the node's database and
   * publishing through the node's signal service. Not the node's own `core.outbox`: a
   * sweep of that one's timer under way would be joined, with its grace period.
   */
  function outbox(): Outbox {
    return new Outbox(hub.database(), (signals, retain) => hub.core.signals.publish(signals, retain), { now: hub.core.now })
  }

  async function subscriber(): Promise<Inbox> {
    const client = await clients.connect(hub.mqttUrl, { password: reader.key, clientId: uniqueId('sub-') })
    const inbox = new Inbox(client)
    expect(await subscribe(client, [`strategy/${strategy}/#`])).toEqual([1])
    return inbox
  }

  /** Whether the signal `seq` still waits in the outbox. */
  async function waiting(seq: number): Promise<boolean> {
    const { Signal, SignalOutbox } = hub.database().models
    const row = await Signal.findOne({ where: { strategy_id: strategy, seq } })
    if (row === null) throw new Error(`no signal ${seq}`)
    return (await SignalOutbox.findByPk(row.id)) !== null
  }

  test('outbox sweep, signal committed while the fan-out refused it, delivers it to a subscriber with its seq', async () => {
    const inbox = await subscriber()
    hub.core.signals.setSink(failingSink)
    const posted = await postSignal(hub.baseUrl, owner.key, signal(strategy, 'AAPL', 'left behind'))
    expect(posted.status).toBe(201)
    expect(posted.body.seq).toBe(1)
    expect(await waiting(1)).toBe(true)
    expect(inbox.count(`strategy/${strategy}/AAPL`)).toBe(0)

    hub.core.signals.setSink(hub.broker.sink)
    await hub.core.signals.settled()
    expect(await outbox().sweep(0)).toBe(1)
    expect((await inbox.next(`strategy/${strategy}/AAPL`)).json()).toMatchObject({ seq: 1, description: 'left behind', id: posted.body.id })
    expect(await waiting(1)).toBe(false)
    expect(await outbox().sweep(0)).toBe(0)
    // a later signal is the next message: seq 1 arrived once, by the sweep, and not during the refusal
    expect((await postSignal(hub.baseUrl, owner.key, signal(strategy, 'AAPL', 'marker'))).status).toBe(201)
    expect((await inbox.next(`strategy/${strategy}/AAPL`)).json()).toMatchObject({ seq: 2, description: 'marker' })
  })

  test('node start, signal committed but never handed over before the process died, is published and retained', async () => {
    const { Signal, SignalOutbox, Strategy } = hub.database().models
    await Strategy.increment({ last_seq: 1 }, { where: { id: strategy } })
    const stored = await Signal.create({
      strategy_id: strategy, seq: 1, symbol: 'MSFT', type: 'sell', execute_date: new Date('2026-11-21T01:30:00Z'),
      description: 'committed, then the process died', payload: null, publisher_id: owner.id, idempotency_key: null,
      created_at: new Date(Date.now() - 60_000)
    })
    await SignalOutbox.create({ signal_id: stored.id, created_at: stored.created_at })
    await hub.stop()
    hub = await startTestHub({}, hub.scratch)

    await waitFor(async () => (await hub.database().models.SignalOutbox.findByPk(stored.id)) === null, 20_000, 100, 'the outbox row removed by the sweep at start')
    const inbox = await subscriber()
    const retained = await inbox.next(`strategy/${strategy}/MSFT`, 10_000)
    expect(retained.packet.retain).toBe(true)
    expect(retained.json()).toMatchObject({ id: stored.id, seq: 1, description: 'committed, then the process died' })
  })

  test('outbox sweep, late signal older than the retained one, is delivered but does not replace the retained signal', async () => {
    hub.core.signals.setSink(failingSink)
    expect((await postSignal(hub.baseUrl, owner.key, signal(strategy, 'AAPL', 'first'))).status).toBe(201)
    hub.core.signals.setSink(hub.broker.sink)
    expect((await postSignal(hub.baseUrl, owner.key, signal(strategy, 'AAPL', 'second'))).status).toBe(201)
    const live = await subscriber()
    expect((await live.next(`strategy/${strategy}/AAPL`)).json()).toMatchObject({ seq: 2 })

    await hub.core.signals.settled()
    expect(await outbox().sweep(0)).toBe(1)
    const late = await live.next(`strategy/${strategy}/AAPL`)
    expect(late.json()).toMatchObject({ seq: 1 })
    expect(late.packet.retain).toBe(false)
    const fresh = await subscriber()
    expect((await fresh.next(`strategy/${strategy}/AAPL`)).json()).toMatchObject({ seq: 2 })
  })

  test('ingest, hand-off that never answers, is acknowledged within the hand-off timeout and left in the outbox', async () => {
    hub.core.signals.setSink({ publish: () => new Promise<void>(() => undefined) })
    const posted = await postSignal(hub.baseUrl, owner.key, signal(strategy))
    expect(posted.status).toBe(201)
    expect(posted.ms).toBeLessThan(5000)
    expect(await waiting(1)).toBe(true)
    expect((await hub.core.metrics.publishFailures.get()).values[0].value).toBe(1)
  })
})
