import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { loadConfig } from '../../core/config'
import { startTestHub, type TestHub } from '../helpers/hub'

/** A request over HTTPS trusting only `ca` (GET without a body by default); resolves status, headers and body. */
function httpsRequest(url: string, ca: string, options: { method?: string, headers?: Record<string, string>, body?: string } = {}): Promise<{ status: number, headers: Record<string, string | string[] | undefined>, body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, servername: 'localhost', method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

const CSP_OVER_HTTP = "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;" +
  "object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';connect-src 'self' ws: wss:"
const CSP_OVER_HTTPS = CSP_OVER_HTTP.replace(";connect-src", ";upgrade-insecure-requests;connect-src")
const HSTS = 'max-age=31536000; includeSubDomains'

/** helmet's other headers, the same on every answer. */
const HELMET_DEFAULTS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0'
}

/** The security headers of an answer, by name; absent ones as null. */
function securityHeadersOf(get: (name: string) => string | null | undefined): Record<string, string | null> {
  const names = ['content-security-policy', 'strict-transport-security', ...Object.keys(HELMET_DEFAULTS)]
  return Object.fromEntries(names.map((name) => [name, get(name) ?? null]))
}

describe('native HTTPS for the bridge (HTTPS_CERT / HTTPS_KEY)', () => {
  let dir: string
  let cert: string
  let hub: TestHub

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'signalhub-tls-'))
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore', timeout: 20000 })
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8')
    hub = await startTestHub({ HTTPS_CERT: join(dir, 'cert.pem'), HTTPS_KEY: join(dir, 'key.pem') })
  })
  afterAll(async () => {
    await hub.shutdown()
    rmSync(dir, { recursive: true, force: true })
  })

  test('HTTP_PORT speaks HTTPS and sends HSTS', async () => {
    const res = await httpsRequest(`https://127.0.0.1:${hub.ports.http}/healthz`, cert)
    expect(res.status).toBe(200)
    expect(securityHeadersOf((name) => res.headers[name] as string | undefined)).toEqual({ ...HELMET_DEFAULTS, 'content-security-policy': CSP_OVER_HTTPS, 'strict-transport-security': HSTS })
    await expect(fetch(`http://127.0.0.1:${hub.ports.http}/healthz`)).rejects.toThrow()
  })

  test('signal ingest over HTTPS carries the same headers, refused or not', async () => {
    const res = await httpsRequest(`https://127.0.0.1:${hub.ports.http}/api/v1/signals`, cert, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(res.status).toBe(401)
    expect(securityHeadersOf((name) => res.headers[name] as string | undefined)).toEqual({ ...HELMET_DEFAULTS, 'content-security-policy': CSP_OVER_HTTPS, 'strict-transport-security': HSTS })
  })

  test('MQTT over WSS at /mqtt logs in with a key', async () => {
    const user = await hub.user('wss-user', 'subscriber')
    const client = mqtt.connect(`wss://127.0.0.1:${hub.ports.http}/mqtt`, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, username: 'u', password: user.key, clientId: 'wss-1', ca: cert, servername: 'localhost' })
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve())
        client.once('error', reject)
      })
    } finally {
      client.end(true)
    }
  })

  test('a certificate without its key is refused at start', () => {
    expect(() => loadConfig({ HTTPS_CERT: join(dir, 'cert.pem') })).toThrow(/HTTPS_CERT and HTTPS_KEY must be set together/)
  })
})

describe('headers, CORS and /metrics over plain HTTP', () => {
  let hub: TestHub
  beforeAll(async () => { hub = await startTestHub({ CORS_ORIGINS: 'https://console.example', METRICS_ALLOW: '10.0.0.0/8,::1' }) })
  afterAll(() => hub.shutdown())

  const answers: Array<[string, string, RequestInit]> = [
    ['a probe', '/healthz', {}],
    ['Swagger UI', '/docs/', {}],
    ['the console', '/console/', {}],
    ['signal ingest', '/api/v1/signals', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }],
    ['an unknown path', '/nope', {}]
  ]

  test.each(answers)('%s over HTTP: helmet\'s defaults and the CSP, no HSTS, no upgrade-insecure-requests', async (_name, path, init) => {
    const res = await fetch(`${hub.baseUrl}${path}`, init)
    expect(securityHeadersOf((name) => res.headers.get(name))).toEqual({ ...HELMET_DEFAULTS, 'content-security-policy': CSP_OVER_HTTP, 'strict-transport-security': null })
  })

  test.each(answers)('%s, when a trusted proxy says the request came over HTTPS: HSTS and upgrade-insecure-requests', async (_name, path, init) => {
    const res = await fetch(`${hub.baseUrl}${path}`, { ...init, headers: { ...init.headers as Record<string, string>, 'x-forwarded-proto': 'https' } })
    expect(securityHeadersOf((name) => res.headers.get(name))).toEqual({ ...HELMET_DEFAULTS, 'content-security-policy': CSP_OVER_HTTPS, 'strict-transport-security': HSTS })
  })

  test('Swagger UI at /docs/ loads only same-origin scripts, which the CSP allows', async () => {
    const page = await fetch(`${hub.baseUrl}/docs/`)
    expect(page.status).toBe(200)
    const html = await page.text()
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)]
    expect(scripts.length).toBeGreaterThan(0)
    for (const [, attrs, inline] of scripts) {
      expect(inline.trim()).toBe('')
      const src = /src="([^"]+)"/.exec(attrs)?.[1] ?? ''
      expect(src).not.toMatch(/^(https?:)?\/\//)
      expect((await fetch(new URL(src, `${hub.baseUrl}/docs/`))).status).toBe(200)
    }
  })

  test('CORS: the allowed origin gets CORS headers, another origin none', async () => {
    const preflight = await fetch(`${hub.baseUrl}/api/v1/signals`, { method: 'OPTIONS', headers: { origin: 'https://console.example', 'access-control-request-method': 'POST' } })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://console.example')
    const foreign = await fetch(`${hub.baseUrl}/api/v1/signals`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } })
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull()
    expect(foreign.headers.get('access-control-allow-methods')).toBeNull()
  })

  test('/metrics: refused outside METRICS_ALLOW (403), served inside it', async () => {
    const outside = await fetch(`${hub.baseUrl}/metrics`)
    expect(outside.status).toBe(403)
    expect(((await outside.json()) as { code: string }).code).toBe('forbidden')
    const inside = await fetch(`${hub.baseUrl}/metrics`, { headers: { 'x-forwarded-for': '10.1.2.3' } })
    expect(inside.status).toBe(200)
    expect(await inside.text()).toContain('signalhub_auth_failures_total')
    expect((await fetch(`${hub.baseUrl}/healthz`)).status).toBe(200)
  })

  test('/metrics with both METRICS_ALLOW and METRICS_TOKEN needs both', async () => {
    const both = await startTestHub({ METRICS_ALLOW: '127.0.0.1/32', METRICS_TOKEN: 'metrics-token-0123456789' })
    try {
      expect((await fetch(`${both.baseUrl}/metrics`)).status).toBe(401)
      expect((await fetch(`${both.baseUrl}/metrics`, { headers: { authorization: 'Bearer metrics-token-0123456789' } })).status).toBe(200)
      expect((await fetch(`${both.baseUrl}/metrics`, { headers: { authorization: 'Bearer metrics-token-0123456789', 'x-forwarded-for': '192.0.2.1' } })).status).toBe(403)
    } finally {
      await both.shutdown()
    }
  })

  test('TRUST_PROXY and METRICS_ALLOW are validated; trusting every proxy is refused', () => {
    expect(loadConfig({}).TRUST_PROXY).toEqual(['loopback'])
    expect(loadConfig({ TRUST_PROXY: 'false' }).TRUST_PROXY).toBe(false)
    expect(loadConfig({ TRUST_PROXY: '1' }).TRUST_PROXY).toBe(1)
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).TRUST_PROXY).toEqual(['loopback', '10.0.0.0/8'])
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/^TRUST_PROXY:/)
    expect(() => loadConfig({ METRICS_ALLOW: '10.0.0.0/33' })).toThrow(/^METRICS_ALLOW:/)
    expect(() => loadConfig({ METRICS_ALLOW: 'example.com' })).toThrow(/^METRICS_ALLOW:/)
  })

  test('X-Forwarded-For and X-Forwarded-Proto are ignored when TRUST_PROXY=false', async () => {
    const strict = await startTestHub({ TRUST_PROXY: 'false', METRICS_ALLOW: '10.0.0.0/8' })
    try {
      expect((await fetch(`${strict.baseUrl}/metrics`, { headers: { 'x-forwarded-for': '10.1.2.3' } })).status).toBe(403)
      for (const [method, path] of [['GET', '/healthz'], ['POST', '/api/v1/signals']]) {
        const res = await fetch(`${strict.baseUrl}${path}`, { method, headers: { 'x-forwarded-proto': 'https' } })
        expect(securityHeadersOf((name) => res.headers.get(name))).toEqual({ ...HELMET_DEFAULTS, 'content-security-policy': CSP_OVER_HTTP, 'strict-transport-security': null })
      }
    } finally {
      await strict.shutdown()
    }
  })
})
