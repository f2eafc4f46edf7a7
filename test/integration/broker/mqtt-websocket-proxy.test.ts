import mqtt from 'mqtt'
import { startTestHub, type TestHub } from '../../helpers/hub'

/** MQTT over WebSocket behind a proxy: the address comes from X-Forwarded-For only through trusted proxies. */
describe.each([
  ['loopback', '203.0.113.7'],
  ['false', '127.0.0.1']
])('TRUST_PROXY=%s', (trust, expected) => {
  let hub: TestHub

  beforeAll(async () => { hub = await startTestHub({ TRUST_PROXY: trust }) })
  afterAll(async () => hub.shutdown())

  test(`a WebSocket login forwarded for 203.0.113.7 is audited from ${expected}`, async () => {
    const user = await hub.user(`ws-${trust}`, 'subscriber')
    const client = await mqtt.connectAsync(`ws://127.0.0.1:${hub.ports.http}/mqtt`, {
      username: user.name, password: user.key, clientId: `ws-proxy-${trust}`, reconnectPeriod: 0,
      wsOptions: { headers: { 'X-Forwarded-For': '203.0.113.7' } }
    })
    await client.endAsync()
    await hub.core.audit.flush()
    const row = await hub.core.db.models.AuditLog.findOne({ where: { action: 'mqtt.connect', client_id: `ws-proxy-${trust}` } })
    expect(row?.ip).toBe(expected)
  })
})
