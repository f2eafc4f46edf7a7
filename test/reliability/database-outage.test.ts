import express from 'express'
import type { AddressInfo } from 'node:net'
import { ConnectionAcquireTimeoutError, ConnectionRefusedError, DatabaseError, UniqueConstraintError, type Sequelize } from 'sequelize'
import { errorHandler } from '../../bridge/middleware/error-handler'
import { isDatabaseUnavailable } from '../../models/database'
import { startTestHub, type TestHub, type TestUser } from '../helpers/hub'
import { eventually, Inbox, subscribe, TestClients, uniqueId } from '../integration/broker/helpers'
import { describeMysql, directDatabase, postSignal, range, signal, storedSeqs, TcpProxy, type CutMode } from './helpers'

function linkLost(code: string): DatabaseError {
  return new DatabaseError(Object.assign(new Error(`link: ${code}`), { code, sql: 'SELECT 1', parameters: [] }) as never)
}

describe('isDatabaseUnavailable', () => {
  test.each([
    ['connection refused', new ConnectionRefusedError(new Error('ECONNREFUSED'))],
    ['pool acquire timeout', new ConnectionAcquireTimeoutError(new Error('timeout'))],
    ['link lost mid-query', linkLost('PROTOCOL_CONNECTION_LOST')],
    ['sqlite busy', linkLost('SQLITE_BUSY')]
  ])('%s, is unavailable', (_name, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true)
  })

  test.each([
    ['a constraint violation', new UniqueConstraintError({})],
    ['a wrong statement', linkLost('ER_PARSE_ERROR')],
    ['a plain error', new Error('boom')]
  ])('%s, is not', (_name, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false)
  })

  test('error handler, database unreachable, answers 503 problem+json with Retry-After', async () => {
    const app = express()
    app.get('/', () => { throw new ConnectionRefusedError(new Error('ECONNREFUSED')) })
    app.use(errorHandler)
    const server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
      expect(res.status).toBe(503)
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/)
      expect(res.headers.get('retry-after')).toBe('5')
      expect(await res.json()).toMatchObject({ status: 503, code: 'service_unavailable' })
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})

describeMysql('database outage (MariaDB behind a TCP proxy)', () => {
  const clients = new TestClients()
  let proxy: TcpProxy
  let hub: TestHub
  let direct: Sequelize
  let owner: TestUser
  let strategy: string
  let inbox: Inbox
  let connected: () => boolean

  beforeAll(async () => {
    const target = new URL(process.env.DATABASE_URL as string)
    proxy = await TcpProxy.start(target.hostname, Number(target.port || 3306))
    const bootstrap = await startTestHub()
    const scratch = bootstrap.scratch
    await bootstrap.stop()
    hub = await startTestHub({ DATABASE_URL: proxy.route(scratch.url), KEY_CACHE_MS: '60000' }, scratch)
    direct = directDatabase(scratch.url)
    owner = await hub.user(uniqueId('owner'), 'publisher')
    const reader = await hub.user(uniqueId('reader'))
    strategy = uniqueId('dbo')
    await hub.strategy(strategy, owner)
    await hub.subscribe(reader, strategy)
    const client = await clients.connect(hub.mqttUrl, { password: reader.key, clientId: uniqueId('sub-') })
    connected = () => client.connected
    inbox = new Inbox(client)
    expect(await subscribe(client, [`strategy/${strategy}/#`])).toEqual([1])
  })
  afterAll(async () => {
    proxy?.restore()
    await clients.endAll()
    await direct?.close()
    await hub?.shutdown()
    await proxy?.close()
  })

  async function expectConsistent(): Promise<number> {
    const { seqs, lastSeq } = await storedSeqs(direct, strategy)
    expect(seqs).toEqual(range(1, lastSeq))
    return lastSeq
  }

  async function recovers(): Promise<void> {
    const before = await expectConsistent()
    const posted = await eventually(async () => {
      const res = await postSignal(hub.baseUrl, owner.key, signal(strategy, 'AAPL', 'after the outage'))
      return res.status === 201 ? res : undefined
    }, 20_000, 200)
    expect(posted.body.seq).toBe(before + 1)
    expect((await inbox.next(`strategy/${strategy}/AAPL`)).json()).toMatchObject({ seq: before + 1 })
    const ready = await fetch(`${hub.baseUrl}/readyz`)
    expect(ready.status).toBe(200)
    await expectConsistent()
  }

  test('ingest, before any outage, stores and delivers', async () => {
    expect((await postSignal(hub.baseUrl, owner.key, signal(strategy))).status).toBe(201)
    expect((await inbox.next(`strategy/${strategy}/AAPL`)).json()).toMatchObject({ seq: 1 })
  })

  test.each<[CutMode]>([['refuse'], ['hang']])('database link cut (%s), ingest answers 503 within 5 s, readyz reports it, subscribers stay connected, recovery is automatic', async (mode) => {
    proxy.cut(mode)
    const attempts = await Promise.all(range(1, 6).map(() => postSignal(hub.baseUrl, owner.key, signal(strategy, 'AAPL', 'during the outage'))))
    for (const res of attempts) {
      expect(res.status).toBe(503)
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/)
      expect(res.headers.get('retry-after')).not.toBeNull()
      expect(res.body).toMatchObject({ status: 503, code: 'service_unavailable' })
      expect(res.ms).toBeLessThan(5000)
    }
    const ready = await fetch(`${hub.baseUrl}/readyz`)
    expect(ready.status).toBe(503)
    expect(await ready.json()).toMatchObject({ checks: { database: 'down' } })
    expect(connected()).toBe(true)

    proxy.restore()
    await recovers()
    expect(connected()).toBe(true)
  })

  test('database link lost inside the ingest transaction, rolls back: no seq taken, nothing half-written', async () => {
    const before = await expectConsistent()
    proxy.cutWhen = (chunk) => chunk.includes('INSERT INTO `signals`')
    const res = await postSignal(hub.baseUrl, owner.key, { signals: range(1, 20).map((n) => signal(strategy, 'MSFT', `batch ${n}`)) })
    expect(res.status).toBe(503)
    expect(res.ms).toBeLessThan(5000)
    proxy.restore()
    const { seqs, lastSeq } = await eventually(async () => {
      const state = await storedSeqs(direct, strategy)
      return state.lastSeq === before ? state : undefined
    }, 10_000, 100)
    expect(seqs).toEqual(range(1, lastSeq))
    await recovers()
  })
})
