import mqtt, { type MqttClient } from 'mqtt'
import { startTestHub, type TestHub, type TestUser } from '../../helpers/hub'
import { Inbox } from '../../helpers/mqtt-clients'

/**
 * One table, run through both doors: REST (POST /api/v1/signals, GET /api/v1/signals)
 * and MQTT (PUBLISH, SUBSCRIBE). A publish must get the same answer on both — `ok`, or the
 * same error code (REST's problem `code`, MQTT's `publish_rejected` notice `code`) — and a
 * read the same allow/deny (SUBACK carries no code), so the two doors cannot drift apart.
 */

type Who = 'owner' | 'rival' | 'reader' | 'limited' | 'stranger' | 'admin' | 'insider'
type Outcome = 'ok' | 'forbidden' | 'validation_failed'

const PUBLISHES: Array<[Who, string, string, Outcome]> = [
  ['owner', 'alpha', 'AAPL', 'ok'],
  ['admin', 'alpha', 'AAPL', 'ok'],
  ['rival', 'alpha', 'AAPL', 'forbidden'],
  ['reader', 'alpha', 'AAPL', 'forbidden'],
  ['stranger', 'alpha', 'AAPL', 'forbidden'],
  ['rival', 'beta', 'MSFT', 'ok'],
  ['owner', 'beta', 'MSFT', 'forbidden'],
  ['owner', 'ghost', 'AAPL', 'validation_failed'],
  ['reader', 'ghost', 'AAPL', 'validation_failed'],
  ['admin', 'ghost', 'AAPL', 'validation_failed']
]

/** Bad signals from the strategy's owner: the same code through both doors. */
const BAD_SIGNALS: Array<[string, Record<string, unknown>, Outcome]> = [
  ['an unknown type', { type: 'moon', execute_date: '2026-11-21T09:30:00Z' }, 'validation_failed'],
  ['no execute_date', { type: 'buy' }, 'validation_failed'],
  ['an execute_date that is no date', { type: 'buy', execute_date: 'tomorrow' }, 'validation_failed'],
  ['an unknown field', { type: 'buy', execute_date: '2026-11-21T09:30:00Z', price: 1 }, 'validation_failed'],
  ['a payload that is a string', { type: 'buy', execute_date: '2026-11-21T09:30:00Z', payload: 'x' }, 'validation_failed'],
  ['an idempotency key with a space', { type: 'buy', execute_date: '2026-11-21T09:30:00Z', idempotency_key: 'a b' }, 'validation_failed'],
  ['a well-formed signal', { type: 'sell', execute_date: '2026-11-21' }, 'ok']
]

const READS: Array<[Who, string, string, boolean]> = [
  ['owner', 'alpha', 'AAPL', true],
  ['admin', 'alpha', 'AAPL', true],
  ['admin', 'secret', 'AAPL', true],
  ['reader', 'alpha', 'AAPL', true],
  ['reader', 'alpha', 'MSFT', true],
  ['limited', 'alpha', 'MSFT', true],
  ['limited', 'alpha', 'AAPL', false],
  ['stranger', 'alpha', 'AAPL', false],
  ['rival', 'alpha', 'AAPL', false],
  ['reader', 'beta', 'MSFT', false],
  ['reader', 'secret', 'AAPL', false],
  ['insider', 'secret', 'AAPL', true],
  ['owner', 'secret', 'AAPL', true],
  ['reader', 'ghost', 'AAPL', false]
]

describe('ACL contract: REST and MQTT agree', () => {
  let hub: TestHub
  const users = {} as Record<Who, TestUser>
  const clients = new Map<Who, { client: MqttClient, inbox: Inbox }>()
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
      const client = await mqtt.connectAsync(hub.mqttUrl, { username: u.name, password: u.key, clientId: `contract-${who}-${u.id}`, reconnectPeriod: 0, protocolVersion: 4 })
      const inbox = new Inbox(client)
      await client.subscribeAsync(`users/${u.id}/notices`, { qos: 1 })
      clients.set(who, { client, inbox })
    }
  })

  afterAll(async () => {
    await Promise.all([...clients.values()].map(({ client }) => client.endAsync(true)))
    await hub.shutdown()
  })

  const stored = (description: string) => hub.database().models.Signal.count({ where: { description } })

  async function restPublish(who: Who, strategy: string, symbol: string, fields: Record<string, unknown>): Promise<Outcome> {
    const description = `rest-${counter++}`
    const { idempotency_key: key, ...body } = fields
    const headers: Record<string, string> = { Authorization: `Bearer ${users[who].key}`, 'Content-Type': 'application/json' }
    if (typeof key === 'string') headers['Idempotency-Key'] = key
    const res = await fetch(`${hub.baseUrl}/api/v1/signals`, { method: 'POST', headers, body: JSON.stringify({ strategy_id: strategy, symbol, description, ...body }) })
    const answer = await res.json() as { code?: Outcome }
    expect(await stored(description)).toBe(res.status === 201 ? 1 : 0)
    return res.status === 201 ? 'ok' : answer.code as Outcome
  }

  /**
   * Publishes, then a marker every user is refused (a payload that is not JSON, to a
   * strategy that does not exist): the publish's own notice, if any, arrives before the
   * marker's, so no notice before the marker means the signal was taken.
   */
  async function mqttPublish(who: Who, strategy: string, symbol: string, fields: Record<string, unknown>): Promise<Outcome> {
    const { client, inbox } = clients.get(who) as { client: MqttClient, inbox: Inbox }
    const description = `mqtt-${counter++}`
    const topic = `strategy/${strategy}/${symbol}`
    await client.publishAsync(topic, JSON.stringify({ description, ...fields }), { qos: 1 })
    await client.publishAsync('strategy/no-such-marker/X', 'not json', { qos: 1 })
    const notices = `users/${users[who].id}/notices`
    const first = (await inbox.next(notices)).json<{ topic: string, code: Outcome }>()
    let outcome: Outcome = 'ok'
    if (first.topic === topic) {
      outcome = first.code
      expect((await inbox.next(notices)).json()).toMatchObject({ topic: 'strategy/no-such-marker/X' })
    } else {
      expect(first.topic).toBe('strategy/no-such-marker/X')
    }
    expect(await stored(description)).toBe(outcome === 'ok' ? 1 : 0)
    return outcome
  }

  async function restRead(who: Who, strategy: string, symbol: string): Promise<boolean> {
    const res = await fetch(`${hub.baseUrl}/api/v1/signals?strategy_id=${strategy}&symbol=${symbol}`, { headers: { Authorization: `Bearer ${users[who].key}` } })
    expect([200, 403, 404]).toContain(res.status)
    return res.status === 200
  }

  async function mqttRead(who: Who, strategy: string, symbol: string): Promise<boolean> {
    const { client } = clients.get(who) as { client: MqttClient }
    const topic = `strategy/${strategy}/${symbol}`
    // MQTT.js rejects a SUBSCRIBE whose only filter got SUBACK 0x80
    const granted = await client.subscribeAsync(topic, { qos: 1 }).then((g) => g[0].qos !== 128, (err: Error) => {
      if (err.name !== 'ErrorWithSubackPacket') throw err
      return false
    })
    if (granted) await client.unsubscribeAsync(topic)
    return granted
  }

  const good = { type: 'buy', execute_date: '2026-11-21T09:30:00Z' }

  test.each(PUBLISHES)('%s publishes to strategy/%s/%s → %s through REST', async (who, strategy, symbol, outcome) => {
    expect(await restPublish(who, strategy, symbol, good)).toBe(outcome)
  })

  test.each(PUBLISHES)('%s publishes to strategy/%s/%s → %s through MQTT', async (who, strategy, symbol, outcome) => {
    expect(await mqttPublish(who, strategy, symbol, good)).toBe(outcome)
  })

  test.each(BAD_SIGNALS)('a signal with %s → the same code through REST and MQTT', async (_what, fields, outcome) => {
    expect(await restPublish('owner', 'alpha', 'AAPL', fields)).toBe(outcome)
    expect(await mqttPublish('owner', 'alpha', 'AAPL', fields)).toBe(outcome)
  })

  test.each(READS)('%s reads strategy/%s/%s → allowed=%s through REST', async (who, strategy, symbol, allowed) => {
    expect(await restRead(who, strategy, symbol)).toBe(allowed)
  })

  test.each(READS)('%s reads strategy/%s/%s → allowed=%s through MQTT', async (who, strategy, symbol, allowed) => {
    expect(await mqttRead(who, strategy, symbol)).toBe(allowed)
  })
})
