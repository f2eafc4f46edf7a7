import { randomBytes } from 'node:crypto'
import mqtt from 'mqtt'
import { cliContext } from '../../core/action-context'
import { uniqueId } from '../helpers/fixtures'
import { startTestHub, type TestHub, type TestUser } from '../helpers/hub'
import { waitFor } from '../helpers/wait'

/**
 * The shared key-guessing throttle (core.authThrottle) on both doors: per address and
 * per key prefix, with lock-outs audited and counted. Addresses are varied through
 * X-Forwarded-For, which the bridge believes from loopback (TRUST_PROXY=loopback).
 */

function get(hub: TestHub, key: string, from: string): Promise<Response> {
  return fetch(`${hub.baseUrl}/api/v1/signals`, { headers: { authorization: `Bearer ${key}`, 'x-forwarded-for': from } })
}

function mqttReturnCode(hub: TestHub, password: string): Promise<number> {
  return new Promise((resolve) => {
    const client = mqtt.connect(hub.mqttUrl, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, username: 'u', password, clientId: uniqueId('throttle-') })
    client.once('connect', () => { client.end(true); resolve(0) })
    client.once('error', (err) => { client.end(true); resolve((err as { code?: number }).code ?? -1) })
  })
}

/** A key with `victim`'s public prefix and a made-up secret. */
const forged = (victim: TestUser): string => `shk_${victim.principal.keyPrefix ?? ''}_${randomBytes(32).toString('base64url')}`

describe('auth throttle: per address', () => {
  let hub: TestHub
  beforeAll(async () => { hub = await startTestHub({ AUTH_FAIL_LIMIT: '3', AUTH_LOCKOUT_PREFIX_LIMIT: '50', AUTH_FAIL_WINDOW_SECONDS: '60' }) })
  afterAll(() => hub.shutdown())

  test('an attacker address is locked after AUTH_FAIL_LIMIT guesses; a client on another address with its own key is not', async () => {
    const alice = await hub.user('alice', 'subscriber')
    for (let i = 0; i < 3; i++) expect((await get(hub, `guess-${i}-${randomBytes(8).toString('hex')}`, '198.51.100.7')).status).toBe(401)
    const locked = await get(hub, 'another-guess', '198.51.100.7')
    expect(locked.status).toBe(429)
    expect(((await locked.json()) as { code: string }).code).toBe('auth_locked')
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(50)
    // a correct key from the locked address is refused too: the lock must not answer "right" or "wrong"
    expect((await get(hub, alice.key, '198.51.100.7')).status).toBe(429)
    expect((await get(hub, alice.key, '198.51.100.8')).status).toBe(200)
    // the MQTT door (from 127.0.0.1) is another address
    expect(await mqttReturnCode(hub, alice.key)).toBe(0)

    const lockouts = await hub.audit({ action: 'auth.lockout' })
    expect(lockouts.map((r) => [r.ip, r.resource])).toEqual([['198.51.100.7', 'address/198.51.100.7']])
    const refusals = (await hub.audit({ action: 'http.auth' })).filter((r) => r.ip === '198.51.100.7').reverse()
    expect(refusals.map((r) => (r.detail as { code: string }).code)).toEqual(['unauthenticated', 'unauthenticated', 'unauthenticated', 'auth_locked', 'auth_locked'])
    const metrics = await (await fetch(`${hub.baseUrl}/metrics`)).text()
    expect(metrics).toMatch(/signalhub_auth_failures_total\{door="rest",code="auth_locked"\} 2/)
    expect(metrics).toMatch(/signalhub_auth_failures_total\{door="rest",code="unauthenticated"\} 3/)
  })
})

describe('auth throttle: both doors count together', () => {
  let hub: TestHub
  beforeAll(async () => { hub = await startTestHub({ AUTH_FAIL_LIMIT: '3', AUTH_FAIL_WINDOW_SECONDS: '60' }) })
  afterAll(() => hub.shutdown())

  test('two MQTT failures and one REST failure from 127.0.0.1 lock that address on both doors', async () => {
    const bob = await hub.user('bob', 'subscriber')
    expect(await mqttReturnCode(hub, 'wrong-1')).toBe(4)
    expect(await mqttReturnCode(hub, 'wrong-2')).toBe(4)
    expect((await fetch(`${hub.baseUrl}/api/v1/signals`, { headers: { authorization: 'Bearer wrong-3' } })).status).toBe(401)
    expect((await fetch(`${hub.baseUrl}/api/v1/signals`, { headers: { authorization: `Bearer ${bob.key}` } })).status).toBe(429)
    expect(await mqttReturnCode(hub, bob.key)).toBe(3)
    const metrics = await (await fetch(`${hub.baseUrl}/metrics`)).text()
    expect(metrics).toMatch(/signalhub_auth_failures_total\{door="mqtt",code="auth_locked"\} 1/)
    expect(metrics).toMatch(/signalhub_auth_failures_total\{door="mqtt",code="unauthenticated"\} 2/)
  })
})

describe('auth throttle: per key prefix', () => {
  let hub: TestHub
  beforeAll(async () => { hub = await startTestHub({ AUTH_FAIL_LIMIT: '3', AUTH_LOCKOUT_PREFIX_LIMIT: '5', AUTH_FAIL_WINDOW_SECONDS: '60' }) })
  afterAll(() => hub.shutdown())

  test('guesses at one prefix from many addresses lock that prefix only, on both doors, until the key is rotated', async () => {
    const victim = await hub.user('victim', 'subscriber')
    const other = await hub.user('other', 'subscriber')
    for (let i = 0; i < 5; i++) expect((await get(hub, forged(victim), `203.0.113.${i + 1}`)).status).toBe(401)
    // no address reached its own limit, but the prefix did: its correct key is refused everywhere
    const locked = await get(hub, victim.key, '203.0.113.200')
    expect(locked.status).toBe(429)
    expect(((await locked.json()) as { detail: string }).detail).toMatch(/for this key/)
    expect(await mqttReturnCode(hub, victim.key)).toBe(3)
    // other keys, even from an attacking address, are unaffected
    expect((await get(hub, other.key, '203.0.113.1')).status).toBe(200)
    expect(await mqttReturnCode(hub, other.key)).toBe(0)
    // rotating gives the owner a new prefix, free of the lock
    const rotated = await hub.core.apiKeys.rotate(cliContext(), victim.keyId)
    expect((await get(hub, rotated.key, '203.0.113.200')).status).toBe(200)

    const lockouts = await hub.audit({ action: 'auth.lockout' })
    expect(lockouts.map((r) => r.resource)).toEqual([`key-prefix/${victim.principal.keyPrefix ?? ''}`])
  })

  test('a lock ends with its window', async () => {
    const short = await startTestHub({ AUTH_FAIL_LIMIT: '2', AUTH_FAIL_WINDOW_SECONDS: '1' })
    try {
      const carol = await short.user('carol', 'subscriber')
      for (let i = 0; i < 2; i++) expect((await get(short, `nope-${i}`, '192.0.2.9')).status).toBe(401)
      expect((await get(short, carol.key, '192.0.2.9')).status).toBe(429)
      // the window is a real timer of the throttle: poll until it lets the key through
      expect(await waitFor(async () => {
        const { status } = await get(short, carol.key, '192.0.2.9')
        return status === 429 ? undefined : status
      }, 5000, 250)).toBe(200)
    } finally {
      await short.shutdown()
    }
  })
})
