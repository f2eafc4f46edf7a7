import type { MqttClient } from 'mqtt'
import { cliContext } from '../../../core/action-context'
import { closed, Inbox, publish, signalBody, startBrokerNode, subscribe, TestClients, uniqueId, type BrokerNode, type Received } from './helpers'

/** Ends a persistent session's connection normally; its session stays stored. */
function leave(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.end(false, {}, () => resolve()))
}

/**
 * A `publish_rejected` notice provoked now arrives after everything the broker already
 * sent this client, so it marks the point where an absent message would have arrived.
 */
async function marker(client: MqttClient, inbox: Inbox, userId: number): Promise<Received> {
  await publish(client, '$SYS/probe', 'x')
  return inbox.next(`users/${userId}/notices`)
}

describe('mqtt revocation', () => {
  let node: BrokerNode
  const clients = new TestClients()

  beforeAll(async () => { node = await startBrokerNode() })
  afterEach(() => clients.endAll())
  afterAll(() => node.shutdown())

  test('revoking the key closes its live connection within 5 s', async () => {
    const alice = await node.user('alice')
    const client = await clients.connect(node.mqttUrl, { password: alice.key, clientId: uniqueId('rev-') })
    const started = Date.now()
    const gone = closed(client)
    await node.core.keys.revoke(alice.keyId)
    await gone
    expect(Date.now() - started).toBeLessThan(5000)
  })

  test('disabling the user closes the connection', async () => {
    const bob = await node.user('bob')
    const client = await clients.connect(node.mqttUrl, { password: bob.key, clientId: uniqueId('dis-') })
    const gone = closed(client)
    await node.core.users.update(cliContext(), bob.id, { status: 'disabled' })
    await gone
  })

  test('a key expiring while connected closes the connection', async () => {
    const carol = await node.user('carol')
    await node.database().models.ApiKey.update({ expires_at: new Date(Date.now() + 1500) }, { where: { id: carol.keyId } })
    const client = await clients.connect(node.mqttUrl, { password: carol.key, clientId: uniqueId('exp-') })
    await closed(client)
  })

  test('rotating a key keeps the connection open during the grace period', async () => {
    const dave = await node.user('dave')
    const client = await clients.connect(node.mqttUrl, { password: dave.key, clientId: uniqueId('rot-') })
    await node.core.keys.rotate(dave.keyId)
    expect(await subscribe(client, [`users/${dave.id}/notices`])).toEqual([1])
    expect(client.connected).toBe(true)
  })

  test('removing a subscription drops the filter, stops delivery, and sends a notice', async () => {
    const owner = await node.user('owner', 'publisher')
    const reader = await node.user('reader')
    const strategy = uniqueId('rev')
    await node.strategy(strategy, owner)
    await node.subscribe(reader, strategy)
    const client = await clients.connect(node.mqttUrl, { password: reader.key, clientId: uniqueId('sub-') })
    const inbox = new Inbox(client)
    await subscribe(client, [`strategy/${strategy}/#`, `users/${reader.id}/notices`])
    const publisher = await clients.connect(node.mqttUrl, { password: owner.key, clientId: uniqueId('pub-') })
    await publish(publisher, `strategy/${strategy}/AAPL`, signalBody())
    await inbox.next(`strategy/${strategy}/AAPL`)

    await node.database().models.Subscription.destroy({ where: { user_id: reader.id, strategy_id: strategy } })
    node.core.bus.announce({ kind: 'policy' })
    const notice = (await inbox.next(`users/${reader.id}/notices`)).json()
    expect(notice).toMatchObject({ type: 'subscription_removed', topics: [`strategy/${strategy}/#`] })

    await publish(publisher, `strategy/${strategy}/AAPL`, signalBody({ description: 'after' }))
    // the signal was handed to subscribers before its PUBACK; a notice provoked now arrives after anything sent for it
    await publish(client, '$SYS/probe', 'x')
    expect((await inbox.next(`users/${reader.id}/notices`)).json()).toMatchObject({ type: 'publish_rejected', topic: '$SYS/probe' })
    expect(await node.database().models.Signal.count({ where: { strategy_id: strategy } })).toBe(2)
    expect(inbox.count(`strategy/${strategy}/AAPL`)).toBe(0)
    expect(client.connected).toBe(true)
  })

  test('a persistent session that reconnects and then loses its subscription has the restored filter dropped, removed from the stored session, and announced', async () => {
    const owner = await node.user('owner', 'publisher')
    const reader = await node.user('reader')
    const strategy = uniqueId('restored')
    await node.strategy(strategy, owner)
    await node.subscribe(reader, strategy)
    const clientId = uniqueId('persist-')
    const first = await clients.connect(node.mqttUrl, { password: reader.key, clientId, clean: false })
    expect(await subscribe(first, [`strategy/${strategy}/#`, `users/${reader.id}/notices`])).toEqual([1, 1])
    await leave(first)

    // no SUBSCRIBE on this connection: Aedes restores both filters from the stored session
    const again = await clients.connect(node.mqttUrl, { password: reader.key, clientId, clean: false })
    const inbox = new Inbox(again)
    const publisher = await clients.connect(node.mqttUrl, { password: owner.key, clientId: uniqueId('pub-') })
    await publish(publisher, `strategy/${strategy}/AAPL`, signalBody({ description: 'restored' }))
    expect((await inbox.next(`strategy/${strategy}/AAPL`)).json()).toMatchObject({ description: 'restored' })

    await node.database().models.Subscription.destroy({ where: { user_id: reader.id, strategy_id: strategy } })
    node.core.bus.announce({ kind: 'policy' })
    expect((await inbox.next(`users/${reader.id}/notices`)).json()).toMatchObject({
      type: 'subscription_removed', topics: [`strategy/${strategy}/#`], client_id: clientId
    })
    await publish(publisher, `strategy/${strategy}/AAPL`, signalBody({ description: 'after removal' }))
    expect((await marker(again, inbox, reader.id)).json()).toMatchObject({ type: 'publish_rejected' })
    expect(inbox.count(`strategy/${strategy}/AAPL`)).toBe(0)
    expect(again.connected).toBe(true)

    // entitled again, the session comes back without the filter: it was removed from the stored session too
    await leave(again)
    await node.subscribe(reader, strategy)
    const third = await clients.connect(node.mqttUrl, { password: reader.key, clientId, clean: false })
    const thirdInbox = new Inbox(third)
    await publish(publisher, `strategy/${strategy}/AAPL`, signalBody({ description: 'entitled again' }))
    expect((await marker(third, thirdInbox, reader.id)).json()).toMatchObject({ type: 'publish_rejected' })
    expect(thirdInbox.count(`strategy/${strategy}/AAPL`)).toBe(0)
  })

  test('after a reconnect, restored and newly subscribed filters are both pruned, and one unsubscribed meanwhile is not announced', async () => {
    const owner = await node.user('owner', 'publisher')
    const reader = await node.user('reader')
    const [kept, added, dropped] = [uniqueId('kept'), uniqueId('added'), uniqueId('dropped')]
    for (const strategy of [kept, added, dropped]) {
      await node.strategy(strategy, owner)
      await node.subscribe(reader, strategy)
    }
    const clientId = uniqueId('persist-')
    const first = await clients.connect(node.mqttUrl, { password: reader.key, clientId, clean: false })
    await subscribe(first, [`strategy/${kept}/#`, `strategy/${dropped}/#`, `users/${reader.id}/notices`])
    await leave(first)

    const again = await clients.connect(node.mqttUrl, { password: reader.key, clientId, clean: false })
    const inbox = new Inbox(again)
    expect(await subscribe(again, [`strategy/${added}/#`])).toEqual([1])
    await again.unsubscribeAsync(`strategy/${dropped}/#`)

    await node.database().models.Subscription.destroy({ where: { user_id: reader.id } })
    node.core.bus.announce({ kind: 'policy' })
    const notice = (await inbox.next(`users/${reader.id}/notices`)).json<{ type: string, topics: string[] }>()
    expect(notice.type).toBe('subscription_removed')
    expect([...notice.topics].sort()).toEqual([`strategy/${added}/#`, `strategy/${kept}/#`].sort())
    // nothing else is announced for this change: the next notice is the marker's
    expect((await marker(again, inbox, reader.id)).json()).toMatchObject({ type: 'publish_rejected' })
  })
})
