import { uniqueId } from '../../helpers/fixtures'
import { startTestHub, type TestHub } from '../../helpers/hub'
import { TestClients } from '../../helpers/mqtt-clients'

describe('mqtt login throttle', () => {
  let node: TestHub
  const clients = new TestClients()

  beforeAll(async () => { node = await startTestHub({ AUTH_FAIL_LIMIT: '3', AUTH_FAIL_WINDOW_SECONDS: '60' }) })
  afterEach(() => clients.endAll())
  afterAll(() => node.shutdown())

  test('after AUTH_FAIL_LIMIT failures an address is refused with return code 3, even with a valid key', async () => {
    const alice = await node.user('alice')
    for (let i = 0; i < 3; i++) {
      expect(await clients.refusal(node.mqttUrl, { password: `sh_guess_${i}_0000000000000000` })).toBe(4)
    }
    const throttled = uniqueId('throttled-')
    expect(await clients.refusal(node.mqttUrl, { password: alice.key, clientId: throttled })).toBe(3)
    const [row] = (await node.audit({ action: 'mqtt.connect' })).filter((a) => a.client_id === throttled)
    expect(row.result).toBe('denied')
    expect(JSON.stringify(row.detail)).toContain('auth_locked')
  })
})
