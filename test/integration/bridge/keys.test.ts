import mqtt from 'mqtt'
import { uniqueId } from '../../helpers/fixtures'
import { startTestHub, type TestHub, type TestUser } from '../../helpers/hub'
import { within } from '../../helpers/wait'

describe('REST keys and client bindings', () => {
  let hub: TestHub
  let admin: TestUser
  let sub: TestUser
  let other: TestUser

  const call: TestHub['api'] = async (...args) => hub.api(...args)

  beforeAll(async () => {
    hub = await startTestHub()
    admin = await hub.user('root', 'admin')
    sub = await hub.user('sub', 'subscriber')
    other = await hub.user('other', 'subscriber')
  })
  afterAll(async () => hub.shutdown())

  test('self creates a key via me (201, shown once), lists keys without secrets', async () => {
    const created = await call('POST', '/users/me/keys', sub.key, { label: 'phone' })
    expect(created.status).toBe(201)
    expect(created.body).toEqual({ id: expect.any(Number), prefix: expect.any(String), key: expect.stringMatching(/^shk_/), expires_at: null })
    expect(created.headers.get('cache-control')).toBe('no-store')
    expect((await call('GET', '/me', created.body.key)).body.user.id).toBe(sub.id)
    const list = await call('GET', `/users/${sub.id}/keys`, sub.key)
    expect(list.status).toBe(200)
    expect(list.body.data.map((k: { id: number }) => k.id)).toContain(created.body.id)
    expect(JSON.stringify(list.body)).not.toContain(created.body.key)
    expect(JSON.stringify(list.body)).not.toContain('hash')
  })

  test('an admin creates a key for anyone, with an expiry', async () => {
    const expires = new Date(Date.now() + 3_600_000).toISOString()
    const created = await call('POST', `/users/${other.id}/keys`, admin.key, { expires_at: expires })
    expect(created.status).toBe(201)
    expect(created.body.expires_at).toBe(expires)
    expect((await call('POST', '/users/999999/keys', admin.key, {})).status).toBe(404)
  })

  test('rotate issues a new key and keeps the old one for the grace period; revoke stops it at once', async () => {
    const first = (await call('POST', '/users/me/keys', sub.key, {})).body
    const rotated = await call('POST', `/keys/${first.id}/rotate`, sub.key)
    expect(rotated.status).toBe(201)
    expect(rotated.body.previous).toMatchObject({ id: first.id, status: 'expiring' })
    expect((await call('GET', '/me', first.key)).status).toBe(200)
    expect((await call('GET', '/me', rotated.body.key)).status).toBe(200)
    const revoked = await call('POST', `/keys/${rotated.body.id}/revoke`, sub.key)
    expect(revoked.status).toBe(200)
    expect(revoked.body.status).toBe('revoked')
    const refused = await call('GET', '/me', rotated.body.key)
    expect(refused.status).toBe(401)
    expect(refused.body.code).toBe('key_revoked')
  })

  test('another user\'s keys are forbidden; no key is 401', async () => {
    expect((await call('POST', `/users/${sub.id}/keys`, other.key, {})).status).toBe(403)
    expect((await call('GET', `/users/${sub.id}/keys`, other.key)).status).toBe(403)
    expect((await call('POST', `/keys/${sub.keyId}/rotate`, other.key)).status).toBe(403)
    expect((await call('POST', `/keys/${sub.keyId}/revoke`, other.key)).status).toBe(403)
    expect((await call('POST', `/keys/${sub.keyId}/revoke`, null)).status).toBe(401)
    expect((await call('POST', '/keys/999999/revoke', admin.key)).status).toBe(404)
  })

  test('invalid key bodies are 422', async () => {
    for (const body of [{ label: '' }, { label: 'x'.repeat(101) }, { expires_at: 'soon' }, { expires_at: '2000-01-01T00:00:00Z' }, { colour: 'red' }]) {
      expect((await call('POST', '/users/me/keys', sub.key, body)).status).toBe(422)
    }
  })

  test('client bindings: listed by their user, released by an admin only', async () => {
    expect(await hub.core.clientBindings.claim('sub-device', sub.id)).toBe(true)
    const list = await call('GET', '/users/me/client-bindings', sub.key)
    expect(list.body.data.map((b: { client_id: string }) => b.client_id)).toEqual(['sub-device'])
    expect((await call('GET', `/users/${sub.id}/client-bindings`, other.key)).status).toBe(403)
    expect((await call('DELETE', '/client-bindings/sub-device', sub.key)).status).toBe(403)
    expect((await call('DELETE', '/client-bindings/sub-device', admin.key)).status).toBe(204)
    expect((await call('DELETE', '/client-bindings/sub-device', admin.key)).status).toBe(404)
  })

  test('revoking a key over REST closes its open MQTT session within 5 s', async () => {
    const issued = (await call('POST', '/users/me/keys', other.key, {})).body
    const client = await mqtt.connectAsync(hub.mqttUrl, { username: 'other', password: issued.key, clientId: uniqueId('other-'), reconnectPeriod: 0 })
    try {
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
      expect((await call('POST', `/keys/${issued.id}/revoke`, other.key)).status).toBe(200)
      await within(closed, 5000, 'the revoked key\'s MQTT session closing')
    } finally {
      client.end(true)
    }
  })
})
