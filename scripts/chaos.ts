/**
 * `npm run chaos`: a bounded (≤ 3 min), loopback-only check that no acknowledged signal is lost.
 * Runs two nodes (child processes of dist/main.js) sharing a scratch MariaDB/MySQL database
 * (CHAOS_DATABASE_URL, else DATABASE_URL; SQLite cannot be shared by two nodes) and Redis
 * (REDIS_URL), a REST publisher that sends to both nodes and a persistent QoS 1 MQTT subscriber
 * on each. Meanwhile it kills node B with SIGKILL and restarts it, then cuts both nodes' database
 * link (a TCP proxy that blackholes) for a few seconds. It prints sent / acknowledged / stored /
 * delivered / lost / duplicated and exits 1 if lost > 0, where lost = acknowledged (201) but
 * neither delivered to a subscriber nor returned by history.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import mqtt, { type MqttClient } from 'mqtt'
import { Sequelize } from 'sequelize'

/** dist/main.js, whether this runs compiled (dist/scripts) or from source (tests). */
const MAIN = __filename.endsWith('.ts') ? join(__dirname, '..', 'dist', 'main.js') : join(__dirname, '..', 'main.js')

export interface NodeProcess {
  child: ChildProcess
  http: number
  mqtt: number
  baseUrl: string
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  /** Log lines the node wrote (JSON), for diagnostics. */
  lines: string[]
}

/** Starts `node dist/main.js` with `env` and resolves once it logs its ports. */
export function spawnNode(env: Record<string, string>, timeoutMs = 30_000): Promise<NodeProcess> {
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, LOG_LEVEL: 'info', HOST: '127.0.0.1', JOBS_ENABLED: 'false', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`node did not start within ${timeoutMs} ms:\n${lines.slice(-20).join('\n')}`)) }, timeoutMs)
    let buffered = ''
    const read = (chunk: Buffer): void => {
      buffered += chunk.toString()
      const parts = buffered.split('\n')
      buffered = parts.pop() ?? ''
      for (const line of parts) {
        lines.push(line)
        if (!line.includes('"signal hub listening"')) continue
        const { http, mqtt: mqttPort } = JSON.parse(line) as { http: number, mqtt: number }
        clearTimeout(timer)
        resolve({ child, http, mqtt: mqttPort, baseUrl: `http://127.0.0.1:${http}`, exited, lines })
      }
    }
    child.stdout.on('data', read)
    child.stderr.on('data', read)
    void exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`node exited (${code ?? signal}) before listening:\n${lines.slice(-20).join('\n')}`)) })
  })
}

/** A free loopback port (so a restarted node can come back on the same one). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A loopback TCP proxy whose link can be blackholed (accept, never answer) and restored. */
class PausableProxy {
  private readonly links = new Set<Socket>()
  private paused = false
  private server?: Server
  port = 0

  constructor(private readonly host: string, private readonly targetPort: number) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      client.on('error', () => undefined)
      this.links.add(client)
      client.on('close', () => this.links.delete(client))
      if (this.paused) return
      const upstream = connect(this.targetPort, this.host)
      this.links.add(upstream)
      upstream.on('error', () => client.destroy())
      upstream.on('close', () => { this.links.delete(upstream); client.destroy() })
      client.on('close', () => upstream.destroy())
      client.pipe(upstream)
      upstream.pipe(client)
    })
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve))
    this.port = (this.server.address() as AddressInfo).port
  }

  pause(): void {
    this.paused = true
    for (const s of this.links) s.destroy()
  }

  resume(): void {
    this.paused = false
    for (const s of this.links) s.destroy()
  }

  async close(): Promise<void> {
    this.pause()
    await new Promise((resolve) => this.server?.close(resolve))
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const log = (message: string): void => { process.stdout.write(`chaos: ${message}\n`) }

interface Ack { id: number, seq: number }

async function main(): Promise<number> {
  const started = Date.now()
  const dbUrl = process.env.CHAOS_DATABASE_URL ?? process.env.DATABASE_URL ?? ''
  const redisUrl = process.env.REDIS_URL ?? ''
  if (!/^(mysql|mariadb):/.test(dbUrl) || redisUrl === '') {
    process.stderr.write('chaos: needs CHAOS_DATABASE_URL (or DATABASE_URL) = mysql://… and REDIS_URL = redis://…: two nodes cannot share a SQLite file\n')
    return 2
  }
  const base = new URL(dbUrl.replace(/^mariadb:/, 'mysql:'))
  const name = `sh_chaos_${randomBytes(4).toString('hex')}`
  const admin = new Sequelize(`mysql://${base.username}:${base.password}@${base.host}/`, { dialect: 'mysql', logging: false })
  await admin.query(`CREATE DATABASE \`${name}\``)
  const proxy = new PausableProxy(base.hostname, Number(base.port || 3306))
  await proxy.start()
  const proxied = new URL(base.toString())
  proxied.pathname = `/${name}`
  const direct = proxied.toString()
  proxied.hostname = '127.0.0.1'
  proxied.port = String(proxy.port)

  const adminKey = randomBytes(24).toString('hex')
  const common = { DATABASE_URL: proxied.toString(), REDIS_URL: redisUrl, REDIS_PREFIX: `${name}:`, BOOTSTRAP_ADMIN_KEY: adminKey, RATE_LIMIT_PER_SECOND: '100000' }
  const ports = { a: { http: await freePort(), mqtt: await freePort() }, b: { http: await freePort(), mqtt: await freePort() } }
  const envOf = (p: { http: number, mqtt: number }): Record<string, string> => ({ ...common, HTTP_PORT: String(p.http), MQTT_PORT: String(p.mqtt) })
  const nodes: Record<'a' | 'b', NodeProcess | undefined> = { a: undefined, b: undefined }
  const subscribers: MqttClient[] = []
  let stopPublishing = false
  const counts = { sent: 0, refused: 0 }
  const acks = new Map<number, Ack>()
  /** Per subscriber: seq → receipts. */
  const received: Array<Map<number, number>> = []
  const delivered = (seq: number): boolean => received.some((r) => r.has(seq))
  const strategy = 'chaos-1'
  try {
    nodes.a = await spawnNode(envOf(ports.a))
    nodes.b = await spawnNode(envOf(ports.b))
    log(`nodes up: A http ${ports.a.http} mqtt ${ports.a.mqtt}, B http ${ports.b.http} mqtt ${ports.b.mqtt}; database ${name} via proxy ${proxy.port}`)
    const auth = { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }
    const created = await fetch(`http://127.0.0.1:${ports.a.http}/api/v1/strategies`, { method: 'POST', headers: auth, body: JSON.stringify({ id: strategy, name: 'chaos' }) })
    if (created.status !== 201) throw new Error(`cannot create the strategy: ${created.status} ${await created.text()}`)

    for (const p of [ports.a, ports.b]) {
      const client = mqtt.connect(`mqtt://127.0.0.1:${p.mqtt}`, { protocolVersion: 4, username: 'chaos', password: adminKey, clientId: `${name}-sub-${p.mqtt}`, clean: false, reconnectPeriod: 300, connectTimeout: 3000 })
      client.on('connect', () => client.subscribe(`strategy/${strategy}/#`, { qos: 1 }))
      const receipts = new Map<number, number>()
      received.push(receipts)
      client.on('message', (_topic, payload) => {
        const { seq } = JSON.parse(payload.toString()) as { seq: number }
        receipts.set(seq, (receipts.get(seq) ?? 0) + 1)
      })
      client.on('error', () => undefined)
      subscribers.push(client)
    }
    await sleep(1000)

    const publisher = async (worker: number): Promise<void> => {
      for (let i = 0; !stopPublishing; i++) {
        const target = (worker + i) % 2 === 0 ? ports.a : ports.b
        const key = `${worker}-${i}`
        counts.sent++
        // retry with the same Idempotency-Key until acknowledged (or give up at the end)
        for (let attempt = 0; ; attempt++) {
          const port = attempt === 0 ? target.http : (attempt % 2 === 0 ? ports.a.http : ports.b.http)
          try {
            const res = await fetch(`http://127.0.0.1:${port}/api/v1/signals`, {
              method: 'POST',
              headers: { ...auth, 'idempotency-key': key },
              body: JSON.stringify({ strategy_id: strategy, symbol: `S${worker % 3}`, type: 'buy', execute_date: new Date().toISOString(), description: key }),
              signal: AbortSignal.timeout(8000)
            })
            if (res.status === 201) {
              const body = await res.json() as Ack
              acks.set(body.id, { id: body.id, seq: body.seq })
              break
            }
            await res.arrayBuffer()
          } catch {
            // node down or link cut: retried below
          }
          counts.refused++
          if (stopPublishing && attempt > 20) break
          await sleep(200)
        }
        await sleep(20)
      }
    }
    const publishers = [0, 1, 2, 3].map(publisher)

    await sleep(8000)
    log(`kill -9 node B (acknowledged so far: ${acks.size})`)
    nodes.b.child.kill('SIGKILL')
    await nodes.b.exited
    await sleep(4000)
    nodes.b = await spawnNode(envOf(ports.b))
    log('node B restarted')
    await sleep(6000)
    log(`database link blackholed for 6 s (acknowledged so far: ${acks.size})`)
    proxy.pause()
    await sleep(6000)
    proxy.resume()
    log('database link restored')
    await sleep(8000)
    stopPublishing = true
    await Promise.all(publishers)
    log(`publishing stopped after ${Math.round((Date.now() - started) / 1000)} s; waiting for delivery (outbox sweeps every 10 s)`)

    const deadline = Date.now() + 45_000
    while (Date.now() < deadline && [...acks.values()].some((a) => !delivered(a.seq))) await sleep(500)

    const db = new Sequelize(direct, { dialect: 'mysql', logging: false })
    const [rows] = await db.query('SELECT id, seq FROM signals WHERE strategy_id = ? ORDER BY seq', { replacements: [strategy] }) as [Array<{ id: number, seq: number }>, unknown]
    await db.close()
    const stored = new Map(rows.map((r) => [Number(r.id), Number(r.seq)]))
    const seqs = rows.map((r) => Number(r.seq))
    const gapless = seqs.every((s, i) => s === i + 1)
    const historySeqs = new Set<number>()
    for (let after = 0; ;) {
      const res = await fetch(`http://127.0.0.1:${ports.a.http}/api/v1/signals?strategy_id=${strategy}&after_seq=${after}&limit=500`, { headers: auth })
      if (res.status !== 200) throw new Error(`history answered ${res.status}: ${await res.text()}`)
      const page = await res.json() as { data: Ack[] }
      for (const s of page.data) historySeqs.add(s.seq)
      if (page.data.length < 500) break
      after = page.data[page.data.length - 1].seq
    }
    const acked = [...acks.values()]
    const notDelivered = acked.filter((a) => !delivered(a.seq))
    const lost = acked.filter((a) => !delivered(a.seq) && !historySeqs.has(a.seq))
    const notStored = acked.filter((a) => stored.get(a.id) !== a.seq)
    const duplicated = received.reduce((n, r) => n + [...r.values()].reduce((m, c) => m + c - 1, 0), 0)
    const summary = {
      sent: counts.sent,
      acknowledged: acked.length,
      retried_attempts: counts.refused,
      stored: rows.length,
      seq_gapless: gapless,
      delivered: acked.length - notDelivered.length,
      delivered_per_subscriber: received.map((r) => r.size),
      lost: lost.length + notStored.length,
      duplicated,
      seconds: Math.round((Date.now() - started) / 1000)
    }
    log(`result ${JSON.stringify(summary)}`)
    if (notDelivered.length > 0) log(`acknowledged but not delivered over MQTT (in history, so not lost): ${notDelivered.slice(0, 10).map((a) => a.seq).join(', ')}${notDelivered.length > 10 ? '…' : ''}`)
    return summary.lost > 0 || !gapless ? 1 : 0
  } finally {
    stopPublishing = true
    for (const s of subscribers) s.end(true)
    await Promise.all((['a', 'b'] as const).map(async (k) => {
      const node = nodes[k]
      if (node === undefined || node.child.exitCode !== null || node.child.signalCode !== null) return
      node.child.kill('SIGTERM')
      await Promise.race([node.exited, sleep(12_000)])
      node.child.kill('SIGKILL')
    }))
    await proxy.close()
    await admin.query(`DROP DATABASE IF EXISTS \`${name}\``).catch(() => undefined)
    await admin.close()
  }
}

if (require.main === module) {
  const limit = setTimeout(() => { process.stderr.write('chaos: took longer than 3 minutes\n'); process.exit(1) }, 180_000)
  limit.unref()
  main().then((code) => process.exit(code), (err: unknown) => {
    process.stderr.write(`chaos: failed: ${err instanceof Error ? err.stack : String(err)}\n`)
    process.exit(1)
  })
}
