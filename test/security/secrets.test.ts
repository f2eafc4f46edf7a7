import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import mqtt from 'mqtt'
import winston from 'winston'
import { cliContext } from '../../core/action-context'
import { loadConfig } from '../../core/config'
import { logger } from '../../core/logger'
import { uniqueId } from '../helpers/fixtures'
import { startTestHub, type TestHub } from '../helpers/hub'

/**
 * No key reaches a log line or an audit row: a node runs with every logger message
 * captured at debug level while keys are created, rotated, used and refused on both
 * doors and through the core services the CLI calls; then every key the test saw
 * (whole, and its secret part) is looked for in the captured text and the audit table.
 */

const captured: string[] = []
const sink = new PassThrough()
sink.on('data', (d: Buffer) => captured.push(d.toString('utf8')))
const transport = new winston.transports.Stream({ stream: sink, level: 'debug' })
const saved = { silent: logger.silent, level: logger.level }

let dir: string
let hub: TestHub
const keys: string[] = []
const BOOTSTRAP = `bootstrap-admin-secret-${'z'.repeat(24)}`
const METRICS = 'metrics-secret-from-a-file-0123'

function mqttCode(password: string): Promise<number> {
  return new Promise((resolve) => {
    const client = mqtt.connect(hub.mqttUrl, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, username: 'u', password, clientId: uniqueId('secret-') })
    client.once('connect', () => { client.end(true); resolve(0) })
    client.once('error', (err) => { client.end(true); resolve((err as { code?: number }).code ?? -1) })
  })
}

async function rest(method: string, path: string, key: string, body?: unknown): Promise<{ status: number, body: Record<string, unknown> }> {
  const res = await fetch(`${hub.baseUrl}/api/v1${path}`, {
    method, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await res.text()
  return { status: res.status, body: text === '' ? {} : JSON.parse(text) as Record<string, unknown> }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'signalhub-secrets-'))
  writeFileSync(join(dir, 'admin-key'), `${BOOTSTRAP}\n`)
  writeFileSync(join(dir, 'metrics-token'), METRICS)
  logger.add(transport)
  for (const t of logger.transports) if (t !== transport) t.silent = true
  logger.silent = false
  logger.level = 'debug'
  hub = await startTestHub({ LOG_LEVEL: 'debug', BOOTSTRAP_ADMIN_KEY_FILE: join(dir, 'admin-key'), METRICS_TOKEN_FILE: join(dir, 'metrics-token'), AUTH_FAIL_LIMIT: '1000' })
  keys.push(BOOTSTRAP, METRICS)
})

afterAll(async () => {
  await hub.shutdown()
  logger.remove(transport)
  for (const t of logger.transports) t.silent = false
  logger.silent = saved.silent
  logger.level = saved.level
  rmSync(dir, { recursive: true, force: true })
})

test('config secrets come from *_FILE: the bootstrap admin key and the metrics token work', async () => {
  expect((await rest('GET', '/me', BOOTSTRAP)).status).toBe(200)
  expect((await fetch(`${hub.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS}` } })).status).toBe(200)
  expect((await fetch(`${hub.baseUrl}/metrics`)).status).toBe(401)
  // a bad secret is named, its value never shown
  expect(() => loadConfig({ BOOTSTRAP_ADMIN_KEY: 'too-short-secret' })).toThrow(/^BOOTSTRAP_ADMIN_KEY: .*\(value hidden\)$/)
  expect(() => loadConfig({ BOOTSTRAP_ADMIN_KEY_FILE: join(dir, 'missing') })).toThrow(/^BOOTSTRAP_ADMIN_KEY_FILE: cannot read/)
})

test('no key the test saw appears in any log line or audit row', async () => {
  // REST: a user and keys created, listed, rotated, revoked, used, refused
  const created = await rest('POST', '/users', BOOTSTRAP, { name: 'secret-keeper', contact: 'keeper@example.com', role: 'publisher' })
  expect(created.status).toBe(201)
  const userId = Number((created.body.user as { id?: number } | undefined)?.id ?? created.body.id)
  const issued = await rest('POST', `/users/${userId}/keys`, BOOTSTRAP, {})
  expect(issued.status).toBe(201)
  const first = String(issued.body.key)
  keys.push(first)
  expect((await rest('GET', '/me', first)).status).toBe(200)
  const rotated = await rest('POST', `/keys/${String(issued.body.id)}/rotate`, first)
  expect(rotated.status).toBe(201)
  const second = String(rotated.body.key)
  keys.push(second)
  expect((await rest('GET', '/signals?strategy_id=none', second)).status).toBeLessThan(500)
  const wrong = `${second.slice(0, -6)}AAAAAA`
  keys.push(wrong)
  expect((await rest('GET', '/me', wrong)).status).toBe(401)
  const own = await rest('POST', '/users/me/keys', second, {})
  keys.push(String(own.body.key))
  expect((await rest('POST', `/keys/${String(own.body.id)}/revoke`, second)).status).toBe(200)
  expect((await rest('GET', '/me', String(own.body.key))).status).toBe(401)
  expect((await fetch(`${hub.baseUrl}/api/v1/me`, { headers: { 'x-api-key': second } })).status).toBe(200)

  // MQTT: good and bad logins
  expect(await mqttCode(second)).toBe(0)
  expect(await mqttCode(wrong)).toBe(4)
  expect(await mqttCode(String(own.body.key))).toBe(4)

  // CLI-like operations through the core services
  const operator = cliContext()
  const cliUser = await hub.core.users.create(operator, { name: 'cli-user', role: 'subscriber' })
  const cliKey = await hub.core.apiKeys.create(operator, cliUser.id)
  keys.push(cliKey.key)
  const cliRotated = await hub.core.apiKeys.rotate(operator, cliKey.id)
  keys.push(cliRotated.key)
  await hub.core.apiKeys.revoke(operator, cliRotated.id)
  await expect(hub.core.authThrottle.verify({ door: 'rest', ip: '192.0.2.50', key: cliRotated.key })).rejects.toMatchObject({ code: 'key_revoked' })
  expect(await mqttCode(cliKey.key)).toBe(0)

  const rows = await hub.audit()
  const logText = captured.join('')
  expect(logText).toMatch(/"level":"debug"|"level":"http"/)
  expect(logText).toContain('mqtt.connect')
  expect(rows.length).toBeGreaterThan(10)
  const auditText = JSON.stringify(rows)
  for (const key of keys) {
    const secret = /^shk_[a-z0-9]{12}_(.+)$/.exec(key)?.[1] ?? key
    for (const needle of [key, secret]) {
      expect(logText.includes(needle)).toBe(false)
      expect(auditText.includes(needle)).toBe(false)
    }
  }
  // the hash is not a secret to guard here, but it has no business in a log either
  const hashes = (await hub.database().models.ApiKey.findAll()).map((k) => k.hash)
  for (const hash of hashes) expect(logText.includes(hash)).toBe(false)
})
