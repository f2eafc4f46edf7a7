import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTestHub, type TestHub } from '../../helpers/hub'
import { closed, publish, subscribe, TestClients } from '../../helpers/mqtt-clients'

describe('mqtt transports', () => {
  const clients = new TestClients()
  afterEach(() => clients.endAll())

  describe('websocket and limits', () => {
    let node: TestHub
    beforeAll(async () => { node = await startTestHub({ MQTT_MAX_PACKET_BYTES: '1024', MQTT_MAX_TOPIC_LEVELS: '4' }) })
    afterAll(() => node.shutdown())

    test('MQTT over WebSocket at /mqtt connects with the same key and ACL', async () => {
      const alice = await node.user('ws-alice')
      const client = await clients.connect(node.wsUrl, { password: alice.key })
      expect(await subscribe(client, [`users/${alice.id}/notices`, '#'])).toEqual([1, 128])
    })

    test('a WebSocket upgrade on another path is refused', async () => {
      const alice = await node.user('other-path-alice')
      await expect(clients.connect(node.wsUrl.replace('/mqtt', '/other'), { password: alice.key })).rejects.toThrow()
    })

    test('a packet larger than MQTT_MAX_PACKET_BYTES closes the connection', async () => {
      const admin = await node.user('big-root', 'admin')
      const client = await clients.connect(node.mqttUrl, { password: admin.key })
      const gone = closed(client)
      client.publish('misc/big', Buffer.alloc(2048), { qos: 0 })
      await gone
    })

    test('a topic deeper than MQTT_MAX_TOPIC_LEVELS is refused', async () => {
      const admin = await node.user('deep-root', 'admin')
      const client = await clients.connect(node.mqttUrl, { password: admin.key })
      const gone = closed(client)
      client.subscribe('a/b/c/d/e/f', { qos: 0 })
      await gone
    })
  })

  describe('tls', () => {
    let node: TestHub
    let dir: string
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'signalhub-tls-'))
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' })
      node = await startTestHub({ MQTT_TLS_CERT: join(dir, 'cert.pem'), MQTT_TLS_KEY: join(dir, 'key.pem') })
    })
    afterAll(async () => {
      await node.shutdown()
      rmSync(dir, { recursive: true, force: true })
    })

    test('MQTT over TLS on MQTT_TLS_PORT accepts a key and refuses a bad one', async () => {
      expect(node.mqttsPort).toBeGreaterThan(0)
      const alice = await node.user('alice')
      const url = `mqtts://127.0.0.1:${node.mqttsPort}`
      const client = await clients.connect(url, { password: alice.key, rejectUnauthorized: false })
      expect(client.connected).toBe(true)
      expect(await clients.refusal(url, { password: 'sh_bad_key_0000000000000000', rejectUnauthorized: false })).toBe(4)
    })

    test('a packet larger than MQTT_MAX_PACKET_BYTES closes a TLS connection, and one within it does not', async () => {
      const admin = await node.user('tls-root', 'admin')
      const client = await clients.connect(`mqtts://127.0.0.1:${node.mqttsPort}`, { password: admin.key, rejectUnauthorized: false })
      await publish(client, 'misc/fits', Buffer.alloc(60_000))
      expect(client.connected).toBe(true)
      const gone = closed(client)
      client.publish('misc/big', Buffer.alloc(70_000), { qos: 0 })
      await gone
    })
  })
})
