import mqtt, { type MqttClient } from 'mqtt'
import { startTestHub, type TestHub, type TestUser } from '../../helpers/hub'

/**
 * One allow/deny table, run through both doors: REST (POST /api/v1/signals, GET
 * /api/v1/signals) and MQTT (PUBLISH, SUBSCRIBE). Both must agree with the table,
 * so the two doors cannot drift apart.
 */

type Who = 'owner' | 'rival' | 'reader' | 'limited' | 'stranger' | 'admin' | 'insider'
type Action = 'publish' | 'read'

const CASES: Array<[Who, Action, string, string, boolean]> = [
  ['owner', 'publish', 'alpha', 'AAPL', true],
  ['admin', 'publish', 'alpha', 'AAPL', true],
  ['rival', 'publish', 'alpha', 'AAPL', false],
  ['reader', 'publish', 'alpha', 'AAPL', false],
  ['stranger', 'publish', 'alpha', 'AAPL', false],
  ['rival', 'publish', 'beta', 'MSFT', true],
  ['owner', 'publish', 'beta', 'MSFT', false],
  ['owner', 'publish', 'ghost', 'AAPL', false],
  ['owner', 'read', 'alpha', 'AAPL', true],
  ['admin', 'read', 'alpha', 'AAPL', true],
  ['admin', 'read', 'secret', 'AAPL', true],
  ['reader', 'read', 'alpha', 'AAPL', true],
  ['reader', 'read', 'alpha', 'MSFT', true],
  ['limited', 'read', 'alpha', 'MSFT', true],
  ['limited', 'read', 'alpha', 'AAPL', false],
  ['stranger', 'read', 'alpha', 'AAPL', false],
  ['rival', 'read', 'alpha', 'AAPL', false],
  ['reader', 'read', 'beta', 'MSFT', false],
  ['reader', 'read', 'secret', 'AAPL', false],
  ['insider', 'read', 'secret', 'AAPL', true],
  ['owner', 'read', 'secret', 'AAPL', true],
  ['reader', 'read', 'ghost', 'AAPL', false]
]

describe('ACL contract: REST and MQTT agree', () => {
  let hub: TestHub
  const users = {} as Record<Who, TestUser>
  const clients = new Map<Who, MqttClient>()
  let counter = 0

  beforeAll(async () => {
    hub = await startTestHub()
    users.owner = await hub.user('owner', 'publisher')
    users.rival = await hub.user('rival', 'publisher')
    users.reader = await hub.user('reader', 'subscriber')
    users.limited = await hub.user('limited', 'subscriber')
    users.stranger = await hub.user('stranger', 'subscriber')
    users.insider = await hub.user('insider', 'subscriber')
    users.admin = await hub.user('root', 'admin')
    await hub.strategy('alpha', users.owner)
    await hub.strategy('beta', users.rival)
    await hub.strategy('secret', users.owner, 'private')
    await hub.subscribe(users.reader, 'alpha')
    await hub.subscribe(users.limited, 'alpha', ['MSFT'])
    await hub.subscribe(users.insider, 'secret')
    for (const who of Object.keys(users) as Who[]) {
      const u = users[who]
      clients.set(who, await mqtt.connectAsync(hub.mqttUrl, { username: u.name, password: u.key, clientId: `contract-${who}`, reconnectPeriod: 0, protocolVersion: 4 }))
    }
  })

  afterAll(async () => {
    await Promise.all([...clients.values()].map((c) => c.endAsync(true)))
    await hub.shutdown()
  })

  const signal = (description: string) => ({ type: 'buy', execute_date: '2026-11-21T09:30:00Z', description })
  const stored = (description: string) => hub.core.db.models.Signal.count({ where: { description } })

  async function rest(who: Who, action: Action, strategy: string, symbol: string): Promise<boolean> {
    const headers = { Authorization: `Bearer ${users[who].key}`, 'Content-Type': 'application/json' }
    if (action === 'publish') {
      const description = `rest-${counter++}`
      const res = await fetch(`${hub.baseUrl}/api/v1/signals`, { method: 'POST', headers, body: JSON.stringify({ strategy_id: strategy, symbol, ...signal(description) }) })
      expect([201, 403, 422]).toContain(res.status)
      expect(await stored(description)).toBe(res.status === 201 ? 1 : 0)
      return res.status === 201
    }
    const res = await fetch(`${hub.baseUrl}/api/v1/signals?strategy_id=${strategy}&symbol=${symbol}`, { headers })
    expect([200, 403, 404]).toContain(res.status)
    return res.status === 200
  }

  async function viaMqtt(who: Who, action: Action, strategy: string, symbol: string): Promise<boolean> {
    const client = clients.get(who) as MqttClient
    const topic = `strategy/${strategy}/${symbol}`
    if (action === 'publish') {
      const description = `mqtt-${counter++}`
      await client.publishAsync(topic, JSON.stringify(signal(description)), { qos: 1 })
      return (await stored(description)) === 1
    }
    // MQTT.js rejects a SUBSCRIBE whose only filter got SUBACK 0x80
    const granted = await client.subscribeAsync(topic, { qos: 1 }).then((g) => g[0].qos !== 128, (err: Error) => {
      if (err.name !== 'ErrorWithSubackPacket') throw err
      return false
    })
    if (granted) await client.unsubscribeAsync(topic)
    return granted
  }

  test.each(CASES)('%s %s strategy/%s/%s → allowed=%s through REST', async (who, action, strategy, symbol, allowed) => {
    expect(await rest(who, action, strategy, symbol)).toBe(allowed)
  })

  test.each(CASES)('%s %s strategy/%s/%s → allowed=%s through MQTT', async (who, action, strategy, symbol, allowed) => {
    expect(await viaMqtt(who, action, strategy, symbol)).toBe(allowed)
  })
})
