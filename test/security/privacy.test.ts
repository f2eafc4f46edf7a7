import mqtt from 'mqtt'
import { ERASED_ACTOR } from '../../core/users/erase-user'
import { uniqueId } from '../helpers/fixtures'
import { startTestHub, type TestHub, type TestUser } from '../helpers/hub'

/** Data-subject rights: export and erasure are audited, and erasure leaves nothing that names the person. */

let hub: TestHub
let admin: TestUser

beforeAll(async () => {
  hub = await startTestHub()
  admin = await hub.user('privacy-admin', 'admin')
})
afterAll(() => hub.shutdown())

async function call(method: string, path: string, key: string, body?: unknown): Promise<Response> {
  return fetch(`${hub.baseUrl}/api/v1${path}`, { method, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) })
}

function mqttLogin(key: string, username: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(hub.mqttUrl, { protocolVersion: 4, reconnectPeriod: 0, username, password: key, clientId: uniqueId(`${username}-`) })
    client.once('connect', () => { client.end(true, {}, () => resolve()) })
    client.once('error', reject)
  })
}

test('GET /me/export is audited with the caller; it holds no key or hash', async () => {
  const dana = await hub.user('dana-export', 'subscriber')
  const res = await call('GET', '/me/export', dana.key)
  expect(res.status).toBe(200)
  const text = await res.text()
  expect(text).not.toContain(dana.key)
  expect(text).not.toMatch(/"hash"/)
  const rows = (await hub.audit({ user_id: dana.id })).filter((a) => a.resource === 'GET /api/v1/me/export')
  expect(rows.map((a) => a.result)).toEqual(['ok'])
})

test('DELETE /me is audited under a pseudonym and the person\'s rows lose their name and id', async () => {
  const name = 'erin-erasure'
  const erin = await hub.user(name, 'subscriber')
  await mqttLogin(erin.key, 'erin-device-user')
  expect((await call('GET', '/me', erin.key)).status).toBe(200)
  expect((await call('DELETE', '/me', erin.key)).status).toBe(204)
  const erase = (await hub.audit({ action: 'me.erase' })).filter((a) => a.resource === `user/${erin.id}`)
  expect(erase).toEqual([expect.objectContaining({ user_id: null, actor: expect.stringMatching(ERASED_ACTOR) })])
  expect(await hub.audit({ user_id: erin.id })).toEqual([])
  expect((await hub.audit()).filter((a) => a.actor === name)).toEqual([])
  expect(await hub.database().models.ApiKey.count({ where: { user_id: erin.id } })).toBe(0)
  expect((await call('GET', '/me', erin.key)).status).toBe(401)
})

test('after DELETE /me no audit row mentions the erased name or contact anywhere', async () => {
  const name = 'fred-freetext'
  const created = await call('POST', '/users', admin.key, { name, contact: 'fred@example.com', role: 'subscriber' })
  const body = await created.json() as { id?: number, user?: { id: number } }
  const id = body.user?.id ?? body.id ?? 0
  const issued = await call('POST', `/users/${id}/keys`, admin.key, {})
  expect(issued.status).toBe(201)
  const secret = (await issued.json() as { key: string }).key
  await mqttLogin(secret, name)
  expect((await call('DELETE', '/me', secret)).status).toBe(204)
  const text = JSON.stringify(await hub.audit())
  expect(text).not.toContain(name)
  expect(text).not.toContain('fred@example.com')
})
