import { startBrokerNode, TestClients, type BrokerNode } from './helpers'

describe('mqtt login throttle', () => {
  let node: BrokerNode
  const clients = new TestClients()

  beforeAll(async () => { node = await startBrokerNode({ AUTH_FAIL_LIMIT: '3', AUTH_FAIL_WINDOW_SECONDS: '60' }) })
  afterEach(() => clients.endAll())
  afterAll(() => node.shutdown())

  test('after AUTH_FAIL_LIMIT failures an address is refused with return code 3, even with a valid key', async () => {
    const alice = await node.user('alice')
    for (let i = 0; i < 3; i++) {
      expect(await clients.refusal(node.mqttUrl, { password: `sh_guess_${i}_0000000000000000`, clientId: `guess-${i}` })).toBe(4)
    }
    expect(await clients.refusal(node.mqttUrl, { password: alice.key, clientId: 'throttled' })).toBe(3)
    await node.core.audit.flush()
    const row = await node.core.db.models.AuditLog.findOne({ where: { action: 'mqtt.connect', client_id: 'throttled' } })
    expect(row?.result).toBe('denied')
    expect(row?.detail).toContain('auth_locked')
  })
})
