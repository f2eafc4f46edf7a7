import { cliContext } from '../../../core/action-context'
import { uniqueId } from '../../helpers/fixtures'
import { startTestHub, type TestHub } from '../../helpers/hub'
import { rawConnectReturnCode, TestClients } from '../../helpers/mqtt-clients'

describe('mqtt client id binding', () => {
  let node: TestHub
  const clients = new TestClients()

  beforeAll(async () => { node = await startTestHub() })
  afterEach(() => clients.endAll())
  afterAll(() => node.shutdown())

  test('another user connecting with a bound client id is refused with return code 2 and audited', async () => {
    const [alice, mallory] = [await node.user(uniqueId('alice')), await node.user(uniqueId('mallory'))]
    const clientId = uniqueId('terminal-')
    const first = await clients.connect(node.mqttUrl, { password: alice.key, clientId, clean: false })
    expect(await clients.refusal(node.mqttUrl, { password: mallory.key, clientId, clean: false })).toBe(2)
    expect(first.connected).toBe(true)
    const [row] = (await node.audit({ action: 'mqtt.connect', user_id: mallory.id })).filter((a) => a.client_id === clientId)
    expect(row.result).toBe('denied')
    expect(JSON.stringify(row.detail)).toContain('client_id_taken')
  })

  test('the owning user reconnecting with the same client id is accepted', async () => {
    const alice = await node.user(uniqueId('alice'))
    const clientId = uniqueId('bot-')
    const first = await clients.connect(node.mqttUrl, { password: alice.key, clientId })
    await new Promise<void>((resolve) => first.end(false, {}, () => resolve()))
    const again = await clients.connect(node.mqttUrl, { password: alice.key, clientId })
    expect(again.connected).toBe(true)
  })

  test('a released binding lets another user take the client id', async () => {
    const [alice, bob] = [await node.user(uniqueId('alice')), await node.user(uniqueId('bob'))]
    const clientId = uniqueId('shared-')
    await clients.connect(node.mqttUrl, { password: alice.key, clientId })
    await clients.endAll()
    expect(await clients.refusal(node.mqttUrl, { password: bob.key, clientId })).toBe(2)
    await node.core.clientBindings.release(cliContext(), clientId)
    expect((await clients.connect(node.mqttUrl, { password: bob.key, clientId })).connected).toBe(true)
  })

  test('an empty client id with clean session 0 is refused with return code 2 [MQTT-3.1.3-8]', async () => {
    const alice = await node.user(uniqueId('alice'))
    // MQTT.js refuses to send this CONNECT, so it goes out raw
    const code = await rawConnectReturnCode(node.mqttUrl, { clientId: '', clean: false, username: alice.name, password: alice.key })
    expect(code).toBe(2)
  })

  test('an empty client id with clean session 1 is accepted and the server assigns one', async () => {
    const alice = await node.user(uniqueId('alice'))
    const client = await clients.connect(node.mqttUrl, { password: alice.key, clientId: '', clean: true })
    expect(client.connected).toBe(true)
    expect(await node.core.clientBindings.list(cliContext(), alice.id)).toEqual([])
  })
})
