import { rawConnectReturnCode, startBrokerNode, TestClients, uniqueId, type BrokerNode } from './helpers'

describe('mqtt client id binding', () => {
  let node: BrokerNode
  const clients = new TestClients()

  beforeAll(async () => { node = await startBrokerNode() })
  afterEach(() => clients.endAll())
  afterAll(() => node.shutdown())

  test('another user connecting with a bound client id is refused with return code 2 and audited', async () => {
    const [alice, mallory] = [await node.user('alice'), await node.user('mallory')]
    const clientId = uniqueId('terminal-')
    const first = await clients.connect(node.mqttUrl, { password: alice.key, clientId, clean: false })
    expect(await clients.refusal(node.mqttUrl, { password: mallory.key, clientId, clean: false })).toBe(2)
    expect(first.connected).toBe(true)
    await node.core.audit.flush()
    const row = await node.core.db.models.AuditLog.findOne({ where: { action: 'mqtt.connect', client_id: clientId, user_id: mallory.id } })
    expect(row?.result).toBe('denied')
    expect(row?.detail).toContain('client_id_taken')
  })

  test('the owning user reconnecting with the same client id is accepted', async () => {
    const alice = await node.user('alice')
    const clientId = uniqueId('bot-')
    const first = await clients.connect(node.mqttUrl, { password: alice.key, clientId })
    await new Promise<void>((resolve) => first.end(false, {}, () => resolve()))
    const again = await clients.connect(node.mqttUrl, { password: alice.key, clientId })
    expect(again.connected).toBe(true)
  })

  test('a released binding lets another user take the client id', async () => {
    const [alice, bob] = [await node.user('alice'), await node.user('bob')]
    const clientId = uniqueId('shared-')
    await clients.connect(node.mqttUrl, { password: alice.key, clientId })
    await clients.endAll()
    expect(await clients.refusal(node.mqttUrl, { password: bob.key, clientId })).toBe(2)
    await node.core.db.models.ClientBinding.destroy({ where: { client_id: clientId } })
    node.core.bus.announce({ kind: 'client-binding', clientId })
    expect((await clients.connect(node.mqttUrl, { password: bob.key, clientId })).connected).toBe(true)
  })

  test('an empty client id with clean session 0 is refused with return code 2 [MQTT-3.1.3-8]', async () => {
    const alice = await node.user('alice')
    // MQTT.js refuses to send this CONNECT, so it goes out raw
    const code = await rawConnectReturnCode(node.mqttUrl, { clientId: '', clean: false, username: 'alice', password: alice.key })
    expect(code).toBe(2)
  })

  test('an empty client id with clean session 1 is accepted and the server assigns one', async () => {
    const alice = await node.user('alice')
    const client = await clients.connect(node.mqttUrl, { password: alice.key, clientId: '', clean: true })
    expect(client.connected).toBe(true)
    expect(await node.core.db.models.ClientBinding.count({ where: { user_id: alice.id } })).toBe(0)
  })
})
