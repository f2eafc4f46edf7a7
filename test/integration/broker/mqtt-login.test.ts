import { cliContext } from '../../../core/action-context'
import { uniqueId } from '../../helpers/fixtures'
import { startTestHub, type TestHub } from '../../helpers/hub'
import { TestClients } from '../../helpers/mqtt-clients'

describe('mqtt login', () => {
  let node: TestHub
  const clients = new TestClients()

  beforeAll(async () => { node = await startTestHub({ AUTH_FAIL_LIMIT: '100' }) })
  afterEach(() => clients.endAll())
  afterAll(() => node.shutdown())

  test('connect with a valid key as password is accepted, whatever the username', async () => {
    const alice = await node.user('alice')
    const client = await clients.connect(node.mqttUrl, { username: 'anything', password: alice.key })
    expect(client.connected).toBe(true)
  })

  test('connect without a password is refused with return code 4', async () => {
    expect(await clients.refusal(node.mqttUrl, { username: 'alice' })).toBe(4)
  })

  test('connect with a wrong key is refused with return code 4', async () => {
    expect(await clients.refusal(node.mqttUrl, { username: 'x', password: 'sh_notakey_0123456789abcdef' })).toBe(4)
  })

  test('connect with a revoked key is refused with return code 4', async () => {
    const bob = await node.user('bob')
    await node.core.apiKeys.revoke(cliContext(), bob.keyId)
    expect(await clients.refusal(node.mqttUrl, { password: bob.key })).toBe(4)
  })

  test('connect with an expired key is refused with return code 4', async () => {
    const carol = await node.user('carol')
    await node.database().models.ApiKey.update({ expires_at: new Date(Date.now() - 1000) }, { where: { id: carol.keyId } })
    expect(await clients.refusal(node.mqttUrl, { password: carol.key })).toBe(4)
  })

  test('connect as a disabled user is refused with return code 5', async () => {
    const dave = await node.user('dave')
    await node.core.users.update(cliContext(), dave.id, { status: 'disabled' })
    expect(await clients.refusal(node.mqttUrl, { password: dave.key })).toBe(5)
  })

  test('every attempt is audited with address and client id but never the key', async () => {
    const erin = await node.user('erin')
    const [ok, bad] = [uniqueId('login-audit-ok-'), uniqueId('login-audit-bad-')]
    await clients.connect(node.mqttUrl, { password: erin.key, clientId: ok })
    await clients.refusal(node.mqttUrl, { password: 'sh_wrong_key_for_audit_000000', clientId: bad })
    const rows = (await node.audit({ action: 'mqtt.connect' })).filter((a) => a.client_id === ok || a.client_id === bad)
    expect(rows.map((r) => [r.client_id, r.result, r.ip]).sort()).toEqual([[bad, 'denied', '127.0.0.1'], [ok, 'ok', '127.0.0.1']])
    expect(JSON.stringify(rows)).not.toContain(erin.key)
  })

  test('connections beyond MQTT_MAX_CONNECTIONS_PER_USER are refused with return code 5', async () => {
    const limited = await startTestHub({ MQTT_MAX_CONNECTIONS_PER_USER: '2' })
    try {
      const frank = await limited.user('frank')
      const second = uniqueId('limit-2-')
      await clients.connect(limited.mqttUrl, { password: frank.key })
      await clients.connect(limited.mqttUrl, { password: frank.key, clientId: second })
      expect(await clients.refusal(limited.mqttUrl, { password: frank.key })).toBe(5)
      // the same client id reconnecting takes its own place
      await clients.connect(limited.mqttUrl, { password: frank.key, clientId: second })
    } finally {
      await clients.endAll()
      await limited.shutdown()
    }
  })
})
