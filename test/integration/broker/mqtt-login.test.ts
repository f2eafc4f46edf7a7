import { startBrokerNode, TestClients, type BrokerNode } from './helpers'

describe('mqtt login', () => {
  let node: BrokerNode
  const clients = new TestClients()

  beforeAll(async () => { node = await startBrokerNode({ AUTH_FAIL_LIMIT: '100' }) })
  afterEach(() => clients.endAll())
  afterAll(() => node.shutdown())

  test('connect with a valid key as password is accepted, whatever the username', async () => {
    const alice = await node.user('alice')
    const client = await clients.connect(node.mqttUrl, { username: 'anything', password: alice.key, clientId: 'login-ok' })
    expect(client.connected).toBe(true)
  })

  test('connect without a password is refused with return code 4', async () => {
    expect(await clients.refusal(node.mqttUrl, { username: 'alice', clientId: 'login-none' })).toBe(4)
  })

  test('connect with a wrong key is refused with return code 4', async () => {
    expect(await clients.refusal(node.mqttUrl, { username: 'x', password: 'sh_notakey_0123456789abcdef', clientId: 'login-wrong' })).toBe(4)
  })

  test('connect with a revoked key is refused with return code 4', async () => {
    const bob = await node.user('bob')
    await node.core.keys.revoke(bob.keyId)
    expect(await clients.refusal(node.mqttUrl, { password: bob.key, clientId: 'login-revoked' })).toBe(4)
  })

  test('connect with an expired key is refused with return code 4', async () => {
    const carol = await node.user('carol')
    await node.core.db.models.ApiKey.update({ expires_at: new Date(Date.now() - 1000) }, { where: { id: carol.keyId } })
    expect(await clients.refusal(node.mqttUrl, { password: carol.key, clientId: 'login-expired' })).toBe(4)
  })

  test('connect as a disabled user is refused with return code 5', async () => {
    const dave = await node.user('dave')
    await node.core.db.models.User.update({ status: 'disabled' }, { where: { id: dave.id } })
    expect(await clients.refusal(node.mqttUrl, { password: dave.key, clientId: 'login-disabled' })).toBe(5)
  })

  test('every attempt is audited with address and client id but never the key', async () => {
    const erin = await node.user('erin')
    await clients.connect(node.mqttUrl, { password: erin.key, clientId: 'login-audit-ok' })
    await clients.refusal(node.mqttUrl, { password: 'sh_wrong_key_for_audit_000000', clientId: 'login-audit-bad' })
    await node.core.audit.flush()
    const rows = await node.core.db.models.AuditLog.findAll({ where: { action: 'mqtt.connect', client_id: ['login-audit-ok', 'login-audit-bad'] } })
    expect(rows.map((r) => [r.client_id, r.result, r.ip]).sort()).toEqual([['login-audit-bad', 'denied', '127.0.0.1'], ['login-audit-ok', 'ok', '127.0.0.1']])
    expect(rows.some((r) => (r.detail ?? '').includes(erin.key))).toBe(false)
  })

  test('connections beyond MQTT_MAX_CONNECTIONS_PER_USER are refused with return code 5', async () => {
    const limited = await startBrokerNode({ MQTT_MAX_CONNECTIONS_PER_USER: '2' })
    try {
      const frank = await limited.user('frank')
      await clients.connect(limited.mqttUrl, { password: frank.key, clientId: 'limit-1' })
      await clients.connect(limited.mqttUrl, { password: frank.key, clientId: 'limit-2' })
      expect(await clients.refusal(limited.mqttUrl, { password: frank.key, clientId: 'limit-3' })).toBe(5)
      // the same client id reconnecting takes its own place
      await clients.connect(limited.mqttUrl, { password: frank.key, clientId: 'limit-2' })
    } finally {
      await clients.endAll()
      await limited.shutdown()
    }
  })
})
