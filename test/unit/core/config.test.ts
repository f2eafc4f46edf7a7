import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfig } from '../../../core/config'

describe('loadConfig', () => {
  test('loadConfig with an empty environment gives the embedded defaults', () => {
    const c = loadConfig({})
    expect(c.DATABASE_URL).toBe('sqlite:./data/signalhub.sqlite')
    expect(c.REDIS_URL).toBeUndefined()
    expect(c.HTTP_PORT).toBe(8080)
    expect(c.MQTT_PORT).toBe(1883)
    expect(c.MQTT_TLS_PORT).toBe(8883)
    expect(c.TZ_DEFAULT).toBe('Asia/Shanghai')
    expect(c.SIGNAL_TYPES).toEqual(['buy', 'sell', 'open', 'close', 'hold'])
    expect(c.KEY_GRACE_HOURS).toBe(24)
    expect(c.LOG_LEVEL).toBe('info')
  })

  test('loadConfig with valid values parses numbers, lists and URLs', () => {
    const c = loadConfig({
      DATABASE_URL: 'mysql://u:p@127.0.0.1:3306/hub', REDIS_URL: 'redis://127.0.0.1:6379/2', HTTP_PORT: '0',
      SIGNAL_TYPES: 'long, short ,flat', CORS_ORIGINS: 'https://a.example,https://b.example', TZ_DEFAULT: 'UTC', DOCS_ENABLED: 'false'
    })
    expect(c.HTTP_PORT).toBe(0)
    expect(c.SIGNAL_TYPES).toEqual(['long', 'short', 'flat'])
    expect(c.CORS_ORIGINS).toEqual(['https://a.example', 'https://b.example'])
    expect(c.DOCS_ENABLED).toBe(false)
  })

  test('loadConfig with sqlite::memory: accepts it', () => {
    expect(loadConfig({ DATABASE_URL: 'sqlite::memory:' }).DATABASE_URL).toBe('sqlite::memory:')
  })

  test('loadConfig with empty strings treats them as unset', () => {
    expect(loadConfig({ REDIS_URL: '', HTTP_PORT: '' }).HTTP_PORT).toBe(8080)
  })

  test.each([
    ['HTTP_PORT', 'eighty'],
    ['HTTP_PORT', '70000'],
    ['MQTT_PORT', '-1'],
    ['DATABASE_URL', 'postgres://x/y'],
    ['DATABASE_URL', 'mysql://host-without-db'],
    ['REDIS_URL', 'http://127.0.0.1'],
    ['LOG_LEVEL', 'loud'],
    ['TZ_DEFAULT', 'Mars/Olympus'],
    ['KEY_MAX_AGE_DAYS', '0'],
    ['KEY_GRACE_HOURS', '-3'],
    ['LOG_RETENTION_DAYS', '1.5'],
    ['SIGNAL_TYPES', 'BUY NOW'],
    ['SIGNAL_TYPES', ','],
    ['DOCS_ENABLED', 'maybe'],
    ['REDIS_PREFIX', 'has space']
  ])('loadConfig with %s=%s throws one line naming the variable', (name, value) => {
    let error: unknown
    try {
      loadConfig({ [name]: value })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    const message = (error as Error).message
    expect(message.startsWith(`${name}:`)).toBe(true)
    expect(message).not.toContain('\n')
  })

  test('loadConfig with a short BOOTSTRAP_ADMIN_KEY refuses it without echoing the value', () => {
    expect(() => loadConfig({ BOOTSTRAP_ADMIN_KEY: 'short-secret' })).toThrow(/^BOOTSTRAP_ADMIN_KEY: at least 32 characters \(value hidden\)$/)
  })

  test('loadConfig with only one of the TLS files refuses the pair', () => {
    expect(() => loadConfig({ MQTT_TLS_CERT: '/tmp/cert.pem' })).toThrow(/^MQTT_TLS_CERT: /)
  })

  test('loadConfig with BOOTSTRAP_ADMIN_KEY_FILE reads the secret from the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'))
    const file = join(dir, 'admin-key')
    writeFileSync(file, `${'k'.repeat(40)}\n`)
    expect(loadConfig({ BOOTSTRAP_ADMIN_KEY_FILE: file }).BOOTSTRAP_ADMIN_KEY).toBe('k'.repeat(40))
  })

  test('loadConfig with a missing secret file names the variable', () => {
    expect(() => loadConfig({ BOOTSTRAP_ADMIN_KEY_FILE: '/nonexistent/key' })).toThrow(/^BOOTSTRAP_ADMIN_KEY_FILE: cannot read/)
  })
})
