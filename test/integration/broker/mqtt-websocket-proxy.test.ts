import { uniqueId } from '../../helpers/fixtures'
import { startTestHub, type TestHub } from '../../helpers/hub'
import { TestClients } from '../../helpers/mqtt-clients'

/** MQTT over WebSocket behind a proxy: the address comes from X-Forwarded-For only through trusted proxies. */
describe.each([
  ['loopback', '203.0.113.7'],
  ['false', '127.0.0.1']
])('TRUST_PROXY=%s', (trust, expected) => {
  let hub: TestHub
  const clients = new TestClients()

  beforeAll(async () => { hub = await startTestHub({ TRUST_PROXY: trust }) })
  afterEach(() => clients.endAll())
  afterAll(async () => hub.shutdown())

  test(`a WebSocket login forwarded for 203.0.113.7 is audited from ${expected}`, async () => {
    const user = await hub.user(`ws-${trust}`, 'subscriber')
    const clientId = uniqueId(`ws-proxy-${trust}-`)
    await clients.connect(hub.wsUrl, { username: user.name, password: user.key, clientId, wsOptions: { headers: { 'X-Forwarded-For': '203.0.113.7' } } })
    const [row] = (await hub.audit({ action: 'mqtt.connect' })).filter((a) => a.client_id === clientId)
    expect(row.ip).toBe(expected)
  })
})
