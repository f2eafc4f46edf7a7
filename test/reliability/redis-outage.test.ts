import type { Sequelize } from 'sequelize'
import { uniqueId } from '../helpers/fixtures'
import { startTestHub, type TestHub, type TestUser } from '../helpers/hub'
import { Inbox, subscribe, TestClients } from '../helpers/mqtt-clients'
import { describeMysqlAndRedis, describeRedis } from '../helpers/services'
import { TcpProxy, type CutMode } from '../helpers/tcp-proxy'
import { waitFor } from '../helpers/wait'
import { postSignal, range, receivedSeqs, signal, storedSeqs } from './helpers'

describeMysqlAndRedis('redis outage on one node (Redis behind a TCP proxy)', () => {
  const clients = new TestClients()
  let proxy: TcpProxy
  let a: TestHub
  let b: TestHub
  let owner: TestUser
  let reader: TestUser

  beforeAll(async () => {
    const target = new URL(process.env.REDIS_URL as string)
    proxy = await TcpProxy.start(target.hostname, Number(target.port || 6379))
    const prefix = `${uniqueId('shr')}:`
    a = await startTestHub({ REDIS_URL: proxy.route(process.env.REDIS_URL as string), REDIS_PREFIX: prefix, KEY_CACHE_MS: '60000' })
    b = await startTestHub({ REDIS_PREFIX: prefix }, a.scratch)
    owner = await a.user(uniqueId('owner'), 'publisher')
    reader = await a.user(uniqueId('reader'))
  })
  afterAll(async () => {
    proxy?.restore()
    await clients.endAll()
    await b?.stop()
    await a?.shutdown()
    await proxy?.close()
  })

  /** The test's connection to the database both nodes share (not through the proxy, which carries only A's Redis). */
  function stored(): Sequelize {
    return a.database().sequelize
  }

  async function redisUp(node: TestHub): Promise<number> {
    return (await node.core.metrics.redisUp.get()).values[0]?.value ?? -1
  }

  async function history(strategy: string, afterSeq: number): Promise<number[]> {
    const res = await fetch(`${b.baseUrl}/api/v1/signals?strategy_id=${strategy}&after_seq=${afterSeq}`, { headers: { authorization: `Bearer ${reader.key}` } })
    expect(res.status).toBe(200)
    return ((await res.json()) as { data: Array<{ seq: number }> }).data.map((s) => s.seq)
  }

  test.each<[CutMode]>([['refuse'], ['hang']])('redis cut (%s) on node A: A keeps ingesting and its subscribers stay connected; the outbox and cross-node delivery resume when Redis returns', async (mode) => {
    const strategy = uniqueId('rdo')
    await a.strategy(strategy, owner)
    await a.subscribe(reader, strategy)
    await b.core.policy.reload()
    const [onA, onB] = await Promise.all([a, b].map(async (node) => {
      const client = await clients.connect(node.mqttUrl, { password: reader.key, clientId: uniqueId('sub-') })
      const inbox = new Inbox(client)
      expect(await subscribe(client, [`strategy/${strategy}/#`])).toEqual([1])
      return { client, inbox }
    }))
    expect((await postSignal(a.baseUrl, owner.key, signal(strategy))).status).toBe(201)
    await waitFor(() => receivedSeqs(onB.inbox.messages, strategy).has(1) && receivedSeqs(onA.inbox.messages, strategy).has(1))

    proxy.cut(mode)
    await waitFor(async () => await redisUp(a) === 0)
    for (const n of range(2, 4)) {
      const res = await postSignal(a.baseUrl, owner.key, signal(strategy, 'AAPL', `during the outage ${n}`))
      expect(res.status).toBe(201)
      expect(res.body.seq).toBe(n)
      expect(res.ms).toBeLessThan(5000)
    }
    const fromB = await postSignal(b.baseUrl, owner.key, signal(strategy, 'MSFT', 'through the healthy node'))
    expect(fromB.body.seq).toBe(5)
    await waitFor(() => receivedSeqs(onB.inbox.messages, strategy).has(5))
    expect((await storedSeqs(stored(), strategy)).seqs).toEqual(range(1, 5))
    expect(onA.client.connected).toBe(true)
    const metrics = await (await fetch(`${a.baseUrl}/metrics`)).text()
    expect(metrics).toMatch(/^signalhub_redis_up 0$/m)
    expect(metrics).toMatch(/^signalhub_publish_failures_total [1-9]/m)

    proxy.restore()
    await waitFor(async () => await redisUp(a) === 1, 20_000, 100)
    await waitFor(async () => {
      await a.core.outbox.sweep(0)
      return (await storedSeqs(stored(), strategy)).unpublished === 0
    }, 20_000, 250)
    expect(onA.client.connected).toBe(true)
    for (const { inbox } of [onA, onB]) await waitFor(() => range(2, 4).every((n) => receivedSeqs(inbox.messages, strategy).has(n)), 10_000)

    // cross-node delivery again, both ways
    expect((await postSignal(b.baseUrl, owner.key, signal(strategy, 'MSFT', 'B to A'))).body.seq).toBe(6)
    expect((await postSignal(a.baseUrl, owner.key, signal(strategy, 'AAPL', 'A to B'))).body.seq).toBe(7)
    for (const { inbox } of [onA, onB]) await waitFor(() => [6, 7].every((n) => receivedSeqs(inbox.messages, strategy).has(n)), 10_000)

    // what A's subscriber missed while A was cut off (seq 5, ingested on B) is found by its gap, through history
    const seen = receivedSeqs(onA.inbox.messages, strategy)
    const missed = range(1, 7).filter((n) => !seen.has(n))
    const caughtUp = missed.length === 0 ? [] : await history(strategy, missed[0] - 1)
    expect(missed.every((n) => caughtUp.includes(n))).toBe(true)
  }, 90_000)
})

describeRedis('broker shutdown while Redis hangs', () => {
  const clients = new TestClients()

  test('the broker closes, its fan-out and persistence connections included, though Redis stops answering', async () => {
    const target = new URL(process.env.REDIS_URL as string)
    const proxy = await TcpProxy.start(target.hostname, Number(target.port || 6379))
    const node = await startTestHub({ REDIS_URL: proxy.route(process.env.REDIS_URL as string) })
    try {
      const user = await node.user(uniqueId('reader'))
      const client = await clients.connect(node.mqttUrl, { password: user.key, clientId: uniqueId('hang-'), clean: false })
      await subscribe(client, ['strategy/#'])
      proxy.cut('hang')
      await node.broker.close()
      await clients.endAll()
    } finally {
      proxy.restore()
      await node.shutdown()
      await proxy.close()
    }
  }, 30_000)
})
