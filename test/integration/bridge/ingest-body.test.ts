import type { IncomingMessage, ServerResponse } from 'node:http'
import { connect as connectTcp } from 'node:net'
import type { AddressInfo } from 'node:net'
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib'
import { MAX_BODY_BYTES } from '../../../bridge/middleware/json-body'
import { problemCode, rawHttp } from '../../security/hostile-helpers'
import { startBridge, type TestBridge } from '../../helpers/bridge'
import type { TestUser } from '../../helpers/fixtures'

/**
 * What a stranger can put in the body of POST /api/v1/signals beyond the JSON itself:
 * content types, content codings, charsets, framing and size. Each case is sent as raw
 * bytes on its own connection; a refused one stores and publishes nothing, an accepted
 * one stores exactly one signal.
 */

let bridge: TestBridge
let publisher: TestUser
let port: number

const valid = { strategy_id: 'b1', symbol: 'BTC', type: 'buy', execute_date: '2026-01-01T09:30:00+08:00' }
const json = JSON.stringify(valid)

interface Case {
  name: string
  body: Buffer | string
  headers?: Record<string, string>
  /** Send the body chunked instead of with a Content-Length. */
  chunked?: boolean
  status: number
  code?: string
}

/** One request as bytes: a Content-Length (or chunked framing) that matches the body unless `headers` overrides it. */
function request(c: Pick<Case, 'body' | 'headers' | 'chunked'>, key: string): Buffer {
  const body = Buffer.isBuffer(c.body) ? c.body : Buffer.from(c.body, 'utf8')
  const headers: Record<string, string> = { host: 'x', authorization: `Bearer ${key}`, 'content-type': 'application/json', connection: 'close', ...c.headers }
  if (c.chunked === true) headers['transfer-encoding'] = 'chunked'
  else headers['content-length'] ??= String(body.length)
  const head = `POST /api/v1/signals HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`
  const framed = c.chunked === true ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]) : body
  return Buffer.concat([Buffer.from(head, 'latin1'), framed])
}

const gzipBomb = gzipSync(Buffer.concat([Buffer.from(json), Buffer.alloc(MAX_BODY_BYTES, ' ')]))
const gzipped = gzipSync(json)

const ACCEPTED: Case[] = [
  { name: 'gzip-compressed JSON', body: gzipped, headers: { 'content-encoding': 'gzip' }, status: 201 },
  { name: 'deflate-compressed JSON', body: deflateSync(json), headers: { 'content-encoding': 'deflate' }, status: 201 },
  { name: 'brotli-compressed JSON', body: brotliCompressSync(json), headers: { 'content-encoding': 'br' }, status: 201 },
  { name: 'Content-Encoding: identity', body: json, headers: { 'content-encoding': 'identity' }, status: 201 },
  { name: 'a chunked body', body: json, chunked: true, status: 201 },
  { name: 'charset="UTF-8" quoted, in capitals', body: json, headers: { 'content-type': 'application/json; charset="UTF-8"' }, status: 201 },
  { name: 'a +json media type', body: json, headers: { 'content-type': 'application/vnd.signal+json' }, status: 201 },
  { name: 'UTF-8 with a byte order mark', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json)]), status: 201 },
  { name: `a body of exactly ${MAX_BODY_BYTES} bytes`, body: json.padEnd(MAX_BODY_BYTES, ' '), status: 201 }
]

const REFUSED: Case[] = [
  { name: 'Content-Type text/json', body: json, headers: { 'content-type': 'text/json' }, status: 415, code: 'unsupported_media_type' },
  { name: 'Content-Type application/jsonx', body: json, headers: { 'content-type': 'application/jsonx' }, status: 415, code: 'unsupported_media_type' },
  { name: 'Content-Type multipart/form-data', body: json, headers: { 'content-type': 'multipart/form-data; boundary=x' }, status: 415, code: 'unsupported_media_type' },
  { name: 'charset=latin1', body: json, headers: { 'content-type': 'application/json; charset=latin1' }, status: 415, code: 'unsupported_media_type' },
  { name: 'charset=utf-9 (no such charset)', body: json, headers: { 'content-type': 'application/json; charset=utf-9' }, status: 415, code: 'unsupported_media_type' },
  { name: 'declared UTF-16 whose bytes are not UTF-8', body: Buffer.from(JSON.stringify({ ...valid, description: 'café' }), 'utf16le'), headers: { 'content-type': 'application/json; charset=utf-16le' }, status: 400, code: 'malformed_json' },
  { name: 'Latin-1 bytes declared as UTF-8', body: Buffer.from(JSON.stringify({ ...valid, description: 'café' }), 'latin1'), headers: { 'content-type': 'application/json; charset=utf-8' }, status: 400, code: 'malformed_json' },
  { name: 'a body of whitespace only', body: '   \r\n\t', status: 400, code: 'malformed_json' },
  { name: 'Content-Encoding: gzip on a body that is not gzip', body: json, headers: { 'content-encoding': 'gzip' }, status: 400, code: 'bad_request' },
  { name: 'a gzip stream cut short', body: gzipped.subarray(0, gzipped.length - 12), headers: { 'content-encoding': 'gzip' }, status: 400, code: 'bad_request' },
  { name: 'gzip JSON that is itself malformed', body: gzipSync('{"strategy_id":'), headers: { 'content-encoding': 'gzip' }, status: 400, code: 'malformed_json' },
  { name: `gzip that inflates past ${MAX_BODY_BYTES} bytes (${gzipBomb.length} bytes sent)`, body: gzipBomb, headers: { 'content-encoding': 'gzip' }, status: 413, code: 'payload_too_large' },
  { name: 'Content-Encoding: gzip, gzip', body: gzipSync(gzipped), headers: { 'content-encoding': 'gzip, gzip' }, status: 415, code: 'unsupported_media_type' },
  { name: 'Content-Encoding: compress', body: json, headers: { 'content-encoding': 'compress' }, status: 415, code: 'unsupported_media_type' },
  { name: `a body of ${MAX_BODY_BYTES + 1} bytes`, body: json.padEnd(MAX_BODY_BYTES + 1, ' '), status: 413, code: 'payload_too_large' },
  { name: `a chunked body past ${MAX_BODY_BYTES} bytes`, body: json.padEnd(MAX_BODY_BYTES + 1, ' '), chunked: true, status: 413, code: 'payload_too_large' }
]

beforeAll(async () => {
  bridge = await startBridge({ CORS_ORIGINS: 'https://console.example' })
  port = (bridge.server.address() as AddressInfo).port
  publisher = await bridge.user('body-pub', 'publisher')
  await bridge.strategy('b1', publisher)
})
afterAll(async () => { await bridge.shutdown() })

describe('POST /api/v1/signals: what the body may be', () => {
  test.each(ACCEPTED.map((c) => [c.name, c] as const))('%s → 201, stored once', async (_name, c) => {
    const before = await bridge.database().models.Signal.count()
    const res = await rawHttp(port, request(c, publisher.key))
    expect(res.status).toBe(c.status)
    expect(JSON.parse(res.body)).toMatchObject({ strategy_id: 'b1', symbol: 'BTC', type: 'buy' })
    expect(await bridge.database().models.Signal.count()).toBe(before + 1)
  })

  test.each(REFUSED.map((c) => [c.name, c] as const))('%s → refused with its problem code, nothing stored', async (_name, c) => {
    const before = await bridge.database().models.Signal.count()
    const published = bridge.published.length
    const res = await rawHttp(port, request(c, publisher.key))
    expect({ status: res.status, code: problemCode(res.body) }).toEqual({ status: c.status, code: c.code })
    expect(res.headers).toMatch(/\r\ncontent-type: application\/problem\+json/i)
    expect(res.headers).toMatch(/\r\nx-request-id: [0-9a-f-]{36}\r\n/i)
    expect(await bridge.database().models.Signal.count()).toBe(before)
    expect(bridge.published.length).toBe(published)
  })

  test('a chunked body the client stops sending mid-way stores nothing, is logged as 499 under the route, and the server goes on', async () => {
    const before = await bridge.database().models.Signal.count()
    const socket = connectTcp(port, '127.0.0.1')
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    // the client goes away once the server has started reading the body ('resume': the body reader
    // asked for data); the access log records the request when the response closes
    const gone = new Promise<void>((resolve) => bridge.server.once('request', (req: IncomingMessage, res: ServerResponse) => {
      res.once('close', () => resolve())
      req.once('resume', () => socket.destroy())
    }))
    socket.write(`POST /api/v1/signals HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${publisher.key}\r\nContent-Type: application/json\r\nX-Request-Id: cut-chunked\r\nTransfer-Encoding: chunked\r\n\r\n${json.length.toString(16)}\r\n${json.slice(0, 20)}`)
    await gone
    await bridge.core.audit.flush()
    const row = await bridge.database().models.AuditLog.findOne({ where: { request_id: 'cut-chunked' } })
    expect(row?.resource).toBe('POST /api/v1/signals')
    expect(JSON.parse(row?.detail ?? '{}')).toMatchObject({ route: '/api/v1/signals', status: 499 })
    expect(await bridge.database().models.Signal.count()).toBe(before)
    expect((await rawHttp(port, request({ body: json }, publisher.key))).status).toBe(201)
  })
})

describe('POST /api/v1/signals: the headers every answer carries', () => {
  const sent = (extra: Record<string, string>, body: string): Promise<Response> => fetch(`${bridge.baseUrl}/api/v1/signals`, {
    method: 'POST',
    headers: { authorization: `Bearer ${publisher.key}`, 'content-type': 'application/json', origin: 'https://console.example', ...extra },
    body
  })

  test.each([['accepted', json, 201], ['refused by the body reader', '{"strategy_id":', 400]] as const)('%s: the caller\'s request id, CORS for the allowed origin, the security headers', async (name, body, status) => {
    const res = await sent({ 'x-request-id': `headers-${status}` }, body)
    expect(res.status).toBe(status)
    expect(res.headers.get('x-request-id')).toBe(`headers-${status}`)
    expect(res.headers.get('access-control-allow-origin')).toBe('https://console.example')
    expect(res.headers.get('access-control-expose-headers')).toContain('X-Request-Id')
    expect(res.headers.get('vary')).toMatch(/Origin/)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('content-security-policy')).toContain("connect-src 'self' ws: wss:")
    expect(res.headers.get('strict-transport-security')).toBeNull()
    if (name !== 'accepted') expect(((await res.json()) as { request_id: string }).request_id).toBe(`headers-${status}`)
  })

  test('another origin gets no CORS headers', async () => {
    const res = await sent({ origin: 'https://evil.example' }, json)
    expect(res.status).toBe(201)
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
  })

  test('a request refused before its body is read is audited under the route', async () => {
    const res = await sent({ 'x-request-id': 'headers-415', 'content-type': 'text/plain' }, json)
    expect(res.status).toBe(415)
    await bridge.core.audit.flush()
    const row = await bridge.database().models.AuditLog.findOne({ where: { request_id: 'headers-415' } })
    expect(row?.resource).toBe('POST /api/v1/signals')
    expect(JSON.parse(row?.detail ?? '{}')).toMatchObject({ route: '/api/v1/signals', status: 415 })
  })
})
