import { uniqueId } from '../helpers/fixtures'
import { startTestHub, type TestHub } from '../helpers/hub'
import { Inbox, subscribe, TestClients } from '../helpers/mqtt-clients'
import { describeRedis } from '../helpers/services'
import { waitFor } from '../helpers/wait'
import { postSignal, range, receivedSeqs, signal } from './helpers'

describeRedis('broker restart with Redis', () => {
  const clients = new TestClients()
  let hub: TestHub
  const env = { REDIS_PREFIX: `${uniqueId('shs')}:` }

  beforeEach(async () => {
    hub = await startTestHub(env)
  })
  afterEach(async () => {
    await clients.endAll()
    await hub.shutdown()
  })

  test('restart, offline persistent session and a reader that saw seq 1, get queued and retained signals and exactly what they missed from history', async () => {
    const owner = await hub.user(uniqueId('owner'), 'publisher')
    const reader = await hub.user(uniqueId('reader'))
    const strategy = uniqueId('rst')
    await hub.strategy(strategy, owner)
    await hub.subscribe(reader, strategy)
    const durableId = uniqueId('durable-')
    const durable = await clients.connect(hub.mqttUrl, { password: reader.key, clientId: durableId, clean: false })
    await subscribe(durable, [`strategy/${strategy}/#`])
    const live = await clients.connect(hub.mqttUrl, { password: reader.key })
    const liveInbox = new Inbox(live)
    await subscribe(live, [`strategy/${strategy}/#`])
    expect((await postSignal(hub.baseUrl, owner.key, signal(strategy, 'AAPL', 'seen live'))).status).toBe(201)
    await liveInbox.next(`strategy/${strategy}/AAPL`)
    await new Promise<void>((resolve) => durable.end(false, {}, () => resolve()))
    await clients.endAll()

    for (const [symbol, n] of [['AAPL', 2], ['MSFT', 3]] as const) {
      expect((await postSignal(hub.baseUrl, owner.key, signal(strategy, symbol, `while offline ${n}`))).body.seq).toBe(n)
    }
    await hub.stop()
    hub = await startTestHub(env, hub.scratch)
    expect((await postSignal(hub.baseUrl, owner.key, signal(strategy, 'AAPL', 'after the restart'))).body.seq).toBe(4)

    const again = await clients.connect(hub.mqttUrl, { password: reader.key, clientId: durableId, clean: false })
    const queued = new Inbox(again)
    await waitFor(() => range(2, 4).every((n) => receivedSeqs(queued.messages, strategy).has(n)), 10_000)

    const fresh = await clients.connect(hub.mqttUrl, { password: reader.key })
    const retained = new Inbox(fresh)
    await subscribe(fresh, [`strategy/${strategy}/#`])
    expect((await retained.next(`strategy/${strategy}/AAPL`)).json()).toMatchObject({ seq: 4 })
    expect((await retained.next(`strategy/${strategy}/MSFT`)).json()).toMatchObject({ seq: 3 })

    const res = await fetch(`${hub.baseUrl}/api/v1/signals?strategy_id=${strategy}&after_seq=1`, { headers: { authorization: `Bearer ${reader.key}` } })
    const page = await res.json() as { data: Array<{ seq: number }>, next_cursor: string | null }
    expect(page.data.map((s) => s.seq)).toEqual([2, 3, 4])
    expect(page.next_cursor).toBeNull()
  })
})
