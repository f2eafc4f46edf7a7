import mqtt from 'mqtt'
import { ERASED_ACTOR } from '../../core/users/erase-user'
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

function mqttLogin(user: TestUser, username: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(hub.mqttUrl, { protocolVersion: 4, reconnectPeriod: 0, username, password: user.key, clientId: `${username}-device` })
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
  await hub.core.audit.flush()
  const row = await hub.core.db.models.AuditLog.findOne({ where: { user_id: dana.id, resource: 'GET /api/v1/me/export' } })
  expect(row?.result).toBe('ok')
})

test('DELETE /me is audited under a pseudonym and the person\'s rows lose their name and id', async () => {
  const name = 'erin-erasure'
  const erin = await hub.user(name, 'subscriber')
  await mqttLogin(erin, 'erin-device-user')
  expect((await call('GET', '/me', erin.key)).status).toBe(200)
  expect((await call('DELETE', '/me', erin.key)).status).toBe(204)
  await hub.core.audit.flush()
  const { AuditLog } = hub.core.db.models
  const erase = await AuditLog.findOne({ where: { action: 'me.erase' } })
  expect(erase?.actor).toMatch(ERASED_ACTOR)
  expect(erase?.user_id).toBeNull()
  expect(await AuditLog.count({ where: { user_id: erin.id } })).toBe(0)
  expect(await AuditLog.count({ where: { actor: name } })).toBe(0)
  expect(await hub.core.db.models.ApiKey.count({ where: { user_id: erin.id } })).toBe(0)
  expect((await call('GET', '/me', erin.key)).status).toBe(401)
})

test('after DELETE /me no audit row mentions the erased name or contact anywhere', async () => {
  const name = 'fred-freetext'
  const created = await call('POST', '/users', admin.key, { name, contact: 'fred@example.com', role: 'subscriber' })
  const body = await created.json() as { id?: number, user?: { id: number } }
  const id = body.user?.id ?? body.id ?? 0
  const key = await hub.core.keys.create(id)
  await mqttLogin({ id, name, key: key.key, keyId: key.id, principal: { userId: id, userName: name, role: 'subscriber', keyId: key.id, keyPrefix: key.prefix } }, name)
  expect((await call('DELETE', '/me', key.key)).status).toBe(204)
  await hub.core.audit.flush()
  const rows = await hub.core.db.models.AuditLog.findAll()
  const text = JSON.stringify(rows.map((r) => r.toJSON()))
  expect(text).not.toContain(name)
  expect(text).not.toContain('fred@example.com')
})
