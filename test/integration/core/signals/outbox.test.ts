import type { Core } from '../../../../core/core'
import type { Principal } from '../../../../core/principal'
import { Outbox, type OutboxOptions, type PublishSignals } from '../../../../core/signals/outbox'
import type { MessageSink, SignalView } from '../../../../core/signals/signal-service'
import { startCore, type TestNode } from '../../../helpers/node'

/** The broker's side of the hand-off: records what arrives; refuses while `down`, or from the `failAt`-th hand-off on. */
class RecordingSink implements MessageSink {
  delivered: Array<{ seq: number, retain: boolean }> = []
  down = false
  failAt = Number.POSITIVE_INFINITY
  async publish(_topic: string, payload: Buffer, options: { qos: 0 | 1, retain: boolean }): Promise<void> {
    if (this.down || this.delivered.length + 1 >= this.failAt) throw new Error('broker unavailable')
    this.delivered.push({ seq: (JSON.parse(payload.toString()) as SignalView).seq, retain: options.retain })
  }
}

describe('Outbox', () => {
  let node: TestNode
  let core: Core
  let sink: RecordingSink
  let owner: Principal
  /** Sizes of the batches the outbox handed to its publish function. */
  let batches: number[]
  let publish: PublishSignals

  beforeEach(async () => {
    node = await startCore()
    core = node.core
    sink = new RecordingSink()
    core.signals.setSink(sink)
    const actor = await node.actor('owner', 'publisher')
    owner = actor.principal
    await node.strategy('alpha', actor)
    batches = []
    publish = (signals, retain) => {
      batches.push(signals.length)
      return core.signals.publish(signals, retain)
    }
  })

  afterEach(async () => {
    await node.shutdown()
  })

  /**
   * An outbox under test on the test's own connection to the node's database (the node's
   * `core.outbox` has fixed options and publishes without `batches` seeing it), handing
   * signals to the node's signal service.
   */
  function outbox(options: OutboxOptions = {}): Outbox {
    return new Outbox(node.database(), publish, options)
  }

  /** Stores `count` signals while the broker refuses them, so they wait in the outbox. */
  async function leftBehind(count: number): Promise<void> {
    sink.down = true
    for (let i = 0; i < count; i++) {
      await core.signals.ingest(owner, [{ strategy_id: 'alpha', symbol: 'AAPL', type: 'buy', execute_date: new Date(), description: `n${i}`, payload: null }], { source: 'rest' })
    }
    sink.down = false
    await core.signals.settled()
  }

  test('sweep, full batches, drains until a batch comes back short, oldest first', async () => {
    await leftBehind(5)
    expect(await outbox({ batchSize: 2 }).sweep(0)).toBe(5)
    expect(batches).toEqual([2, 2, 1])
    expect(sink.delivered.map((d) => d.seq)).toEqual([1, 2, 3, 4, 5])
    expect(sink.delivered.map((d) => d.retain)).toEqual([false, false, false, false, true])
    expect(await node.database().models.SignalOutbox.count()).toBe(0)
  })

  test('sweep, a hand-off fails, stops there and resolves with what was published; the rest waits for the next sweep', async () => {
    await leftBehind(4)
    sink.failAt = 2
    const swept = outbox({ batchSize: 2 })
    expect(await swept.sweep(0)).toBe(1)
    expect(batches).toEqual([2])
    expect(await node.database().models.SignalOutbox.count()).toBe(3)
    sink.failAt = Number.POSITIVE_INFINITY
    expect(await swept.sweep(0)).toBe(3)
    expect(sink.delivered.map((d) => d.seq)).toEqual([1, 2, 3, 4])
  })

  test('sweep, signals younger than the grace period, leaves them to a later sweep', async () => {
    await leftBehind(2)
    expect(await outbox().sweep(60_000)).toBe(0)
    expect(batches).toEqual([])
    expect(await outbox({ now: () => new Date(Date.now() + 120_000) }).sweep(60_000)).toBe(2)
  })

  test('sweep, the database fails, resolves with 0 instead of rejecting', async () => {
    await leftBehind(1)
    await node.database().sequelize.getQueryInterface().renameTable('signal_outbox', 'signal_outbox_away')
    try {
      await expect(outbox().sweep(0)).resolves.toBe(0)
    } finally {
      await node.database().sequelize.getQueryInterface().renameTable('signal_outbox_away', 'signal_outbox')
    }
    expect(sink.delivered).toEqual([])
    expect(await outbox().sweep(0)).toBe(1)
  })

  test('sweep, called while one runs, joins it; stop waits for it', async () => {
    await leftBehind(3)
    const swept = outbox()
    const [a, b] = [swept.sweep(0), swept.sweep(0)]
    await swept.stop()
    expect(await a).toBe(3)
    expect(await b).toBe(3)
    expect(batches).toEqual([3])
    expect(sink.delivered).toHaveLength(3)
  })
})
