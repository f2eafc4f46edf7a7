import { uniqueId } from '../../helpers/fixtures'
import { startTestHub, type TestHub } from '../../helpers/hub'
import { Inbox, publish, signalBody, subscribe, TestClients } from '../../helpers/mqtt-clients'

describe('mqtt sessions', () => {
  let node: TestHub
  const clients = new TestClients()

  beforeAll(async () => { node = await startTestHub() })
  afterEach(() => clients.endAll())
  afterAll(() => node.shutdown())

  test('a persistent QoS 1 session receives on reconnect what was published while it was offline', async () => {
    const owner = await node.user(uniqueId('owner'), 'publisher')
    const reader = await node.user(uniqueId('reader'))
    const strategy = uniqueId('sess')
    await node.strategy(strategy, owner)
    await node.subscribe(reader, strategy)
    const clientId = uniqueId('persistent-')
    const first = await clients.connect(node.mqttUrl, { password: reader.key, clientId, clean: false })
    await subscribe(first, [`strategy/${strategy}/#`])
    await new Promise<void>((resolve) => first.end(false, {}, () => resolve()))

    const publisher = await clients.connect(node.mqttUrl, { password: owner.key })
    await publish(publisher, `strategy/${strategy}/AAPL`, signalBody({ description: 'missed 1' }))
    await publish(publisher, `strategy/${strategy}/TSLA`, signalBody({ description: 'missed 2' }))

    const again = await clients.connect(node.mqttUrl, { password: reader.key, clientId, clean: false })
    const inbox = new Inbox(again)
    expect((await inbox.next(`strategy/${strategy}/AAPL`)).json()).toMatchObject({ seq: 1, description: 'missed 1' })
    expect((await inbox.next(`strategy/${strategy}/TSLA`)).json()).toMatchObject({ seq: 2, description: 'missed 2' })
  })

  test('a refused filter is not kept in a persistent session', async () => {
    const reader = await node.user(uniqueId('reader'))
    const clientId = uniqueId('keep-')
    const first = await clients.connect(node.mqttUrl, { password: reader.key, clientId, clean: false })
    expect(await subscribe(first, ['#', `users/${reader.id}/notices`])).toEqual([128, 1])
    await new Promise<void>((resolve) => first.end(false, {}, () => resolve()))
    const again = await clients.connect(node.mqttUrl, { password: reader.key, clientId, clean: false })
    const inbox = new Inbox(again)
    // a report the reader may read but never subscribed to reaches it only through a kept '#';
    // the notice after it, through the filter that was granted, marks that it would have arrived by now
    await node.core.notifier.report(reader.id, { id: 0 })
    await node.core.notifier.notice(reader.id, { type: 'key_revoked', detail: 'marker', key_id: 0, prefix: 'marker' })
    expect((await inbox.next(`users/${reader.id}/notices`)).json()).toMatchObject({ type: 'key_revoked', detail: 'marker' })
    expect(inbox.messages).toEqual([])
  })
})
