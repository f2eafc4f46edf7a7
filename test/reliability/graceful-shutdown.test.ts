import { randomBytes } from 'node:crypto'
import mqtt from 'mqtt'
import { Database } from '../../models/database'
import { spawnNode, type NodeProcess } from '../../scripts/chaos'
import { scratchDatabase, type ScratchDatabase } from '../helpers/database'
import { uniqueId } from '../helpers/fixtures'
import { waitFor } from '../helpers/wait'
import { range, storedSeqs } from './helpers'

/** The compiled service is what runs in production: the `compiled` jest project builds it before this suite. */
describe('graceful shutdown of the compiled service (node dist/main.js)', () => {
  let scratch: ScratchDatabase
  let direct: Database
  let node: NodeProcess | undefined
  const adminKey = randomBytes(24).toString('hex')
  const env = (): Record<string, string> => ({
    DATABASE_URL: scratch.url,
    HTTP_PORT: '0',
    MQTT_PORT: '0',
    BOOTSTRAP_ADMIN_KEY: adminKey,
    RATE_LIMIT_PER_SECOND: '100000',
    REDIS_PREFIX: `${uniqueId('shg')}:`,
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {})
  })

  beforeAll(async () => {
    scratch = await scratchDatabase()
    direct = new Database(scratch.url)
  })
  afterAll(async () => {
    node?.child.kill('SIGKILL')
    await direct?.close()
    await scratch?.drop()
  })

  test('SIGTERM during continuous ingest, exits 0 within 10 s and every acknowledged signal is stored and delivered (now or by the outbox at the next start)', async () => {
    node = await spawnNode(env())
    const auth = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }
    const strategy = uniqueId('gs')
    expect((await fetch(`${node.baseUrl}/api/v1/strategies`, { method: 'POST', headers: auth, body: JSON.stringify({ id: strategy, name: 'shutdown' }) })).status).toBe(201)
    const subscriber = mqtt.connect(`mqtt://127.0.0.1:${node.mqtt}`, { protocolVersion: 4, username: 't', password: adminKey, reconnectPeriod: 0 })
    const delivered = new Set<number>()
    subscriber.on('message', (_t, payload) => delivered.add((JSON.parse(payload.toString()) as { seq: number }).seq))
    subscriber.on('error', () => undefined)
    await new Promise<void>((resolve, reject) => subscriber.once('connect', () => subscriber.subscribe(`strategy/${strategy}/#`, { qos: 1 }, (err) => err ? reject(err) : resolve())))

    const acknowledged = new Map<number, number>()
    let running = true
    const publisher = async (): Promise<void> => {
      while (running) {
        try {
          const res = await fetch(`${(node as NodeProcess).baseUrl}/api/v1/signals`, {
            method: 'POST', headers: auth, signal: AbortSignal.timeout(10_000),
            body: JSON.stringify({ strategy_id: strategy, symbol: 'AAPL', type: 'buy', execute_date: '2026-11-21T09:30:00+08:00', description: 'stream' })
          })
          if (res.status === 201) {
            const body = await res.json() as { id: number, seq: number }
            acknowledged.set(body.id, body.seq)
          } else {
            await res.arrayBuffer()
          }
        } catch {
          running = false
        }
      }
    }
    const publishers = range(1, 4).map(publisher)
    await waitFor(() => acknowledged.size >= 30, 20_000, 20)

    const signalled = Date.now()
    node.child.kill('SIGTERM')
    const exit = await node.exited
    const took = Date.now() - signalled
    running = false
    await Promise.all(publishers)
    subscriber.end(true)
    expect(exit).toEqual({ code: 0, signal: null })
    expect(took).toBeLessThan(10_000)

    const { seqs, lastSeq } = await storedSeqs(direct.sequelize, strategy)
    expect(seqs).toEqual(range(1, lastSeq))
    const [rows] = await direct.sequelize.query('SELECT id, seq FROM signals WHERE strategy_id = ?', { replacements: [strategy] }) as [Array<{ id: number, seq: number }>, unknown]
    const stored = new Map(rows.map((r) => [Number(r.id), Number(r.seq)]))
    for (const [id, seq] of acknowledged) expect(stored.get(id)).toBe(seq)

    // what was acknowledged but not delivered before the exit must still be in the outbox, and the next start publishes it
    const [pending] = await direct.sequelize.query('SELECT s.seq FROM signals s JOIN signal_outbox o ON o.signal_id = s.id WHERE s.strategy_id = ?', { replacements: [strategy] }) as [Array<{ seq: number }>, unknown]
    const pendingSeqs = new Set(pending.map((p) => Number(p.seq)))
    for (const seq of acknowledged.values()) expect(delivered.has(seq) || pendingSeqs.has(seq)).toBe(true)
    if (pendingSeqs.size > 0) {
      node = await spawnNode(env())
      await waitFor(async () => (await storedSeqs(direct.sequelize, strategy)).unpublished === 0, 20_000, 250)
      node.child.kill('SIGTERM')
      expect((await node.exited).code).toBe(0)
    }
  }, 90_000)
})
