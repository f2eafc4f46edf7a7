import { uniqueId } from '../helpers/fixtures'
import { startTestHub, type TestHub } from '../helpers/hub'
import { Inbox, subscribe, TestClients } from '../helpers/mqtt-clients'
import { describeMysqlAndRedis } from '../helpers/services'
import { waitFor } from '../helpers/wait'
import { postSignal, range, receivedSeqs, signal, storedSeqs } from './helpers'

/**
 * Signals each REST client sends; 2 nodes × 8 clients × this = N (640 by default). All of them
 * take one strategy's row lock in turn, so N is bounded by MariaDB commits per second (about
 * 30–60 on a loaded 2-core VM); RELIABILITY_SIGNALS_PER_CLIENT=500 gives the figure.
 */
const PER_CLIENT = Number(process.env.RELIABILITY_SIGNALS_PER_CLIENT ?? 40)
const CLIENTS_PER_NODE = 8

describeMysqlAndRedis('gapless sequence across two nodes (MariaDB + Redis)', () => {
  const clients = new TestClients()
  let a: TestHub
  let b: TestHub

  beforeAll(async () => {
    const env = { REDIS_PREFIX: `${uniqueId('shr')}:`, RATE_LIMIT_PER_SECOND: '100000' }
    a = await startTestHub(env)
    b = await startTestHub(env, a.scratch)
  })
  afterAll(async () => {
    await clients.endAll()
    await b?.stop()
    await a?.shutdown()
  })

  test(`concurrent ingest, 2 nodes × ${CLIENTS_PER_NODE} clients × ${PER_CLIENT} signals on one strategy, yields seqs 1..N once each, all delivered on both nodes`, async () => {
    const owner = await a.user(uniqueId('owner'), 'publisher')
    const reader = await a.user(uniqueId('reader'))
    const strategy = uniqueId('seq')
    await a.strategy(strategy, owner)
    await a.subscribe(reader, strategy)
    await b.core.policy.reload()
    const inboxes = await Promise.all([a, b].map(async (node) => {
      const client = await clients.connect(node.mqttUrl, { password: reader.key })
      const inbox = new Inbox(client)
      expect(await subscribe(client, [`strategy/${strategy}/#`])).toEqual([1])
      return inbox
    }))
    const total = 2 * CLIENTS_PER_NODE * PER_CLIENT

    const acknowledged: number[] = []
    const sender = async (node: TestHub, n: number): Promise<void> => {
      for (let i = 0; i < PER_CLIENT; i++) {
        const res = await postSignal(node.baseUrl, owner.key, signal(strategy, `S${n % 4}`, `client ${n} #${i}`))
        expect(res.status).toBe(201)
        acknowledged.push(res.body.seq as number)
      }
    }
    await Promise.all([a, b].flatMap((node, k) => range(1, CLIENTS_PER_NODE).map((n) => sender(node, k * CLIENTS_PER_NODE + n))))

    expect([...acknowledged].sort((x, y) => x - y)).toEqual(range(1, total))
    // published marks are written in the background, gathered
    await Promise.all([a, b].map((node) => node.core.signals.settled()))
    const { seqs, lastSeq, unpublished } = await storedSeqs(a.database().sequelize, strategy)
    expect(seqs).toEqual(range(1, total))
    expect(lastSeq).toBe(total)
    expect(unpublished).toBe(0)
    for (const inbox of inboxes) {
      await waitFor(() => receivedSeqs(inbox.messages, strategy).size === total, 20_000, 100)
      expect([...receivedSeqs(inbox.messages, strategy)].sort((x, y) => x - y)).toEqual(range(1, total))
    }
  }, 120_000)
})
