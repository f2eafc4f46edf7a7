import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt, { type MqttClient } from 'mqtt'
import { scratchDatabase, type ScratchDatabase } from '../../helpers/database'
import { uniqueId } from '../../helpers/fixtures'
import { describeMysqlAndRedis } from '../../helpers/services'
import { waitFor } from '../../helpers/wait'

/**
 * Two Signal Hub instances under PM2 in cluster mode (ecosystem.config.js), sharing
 * one HTTP and one MQTT port, MariaDB/MySQL and Redis. Needs a mysql DATABASE_URL and
 * REDIS_URL; runs `dist/` (the `compiled` jest project builds it first) with a private PM2_HOME.
 */
const ROOT = join(__dirname, '..', '..', '..')
const PM2 = join(ROOT, 'node_modules', '.bin', 'pm2')

function exec(file: string, args: string[], env: NodeJS.ProcessEnv, timeout = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: ROOT, env, timeout }, (err, stdout, stderr) => {
      if (err === null) resolve(stdout)
      else reject(new Error(`${file} ${args.join(' ')}: ${err.message}\n${stderr}`))
    })
  })
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** Polls `check` (a failed check counts as not yet) every 100 ms until it answers. */
function until<T>(what: string, check: () => Promise<T | undefined>, ms: number): Promise<T> {
  return waitFor(() => check().catch(() => undefined), ms, 100, what)
}

/** One HTTP request on a fresh connection (no keep-alive), so the cluster deals each to the next instance. */
function call(port: number, method: string, path: string, key: string, body?: unknown): Promise<{ status: number, json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const payload = body === undefined ? undefined : JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port, method, path, agent: false,
      headers: { Authorization: `Bearer ${key}`, Connection: 'close', ...(payload === undefined ? {} : { 'Content-Type': 'application/json' }) }
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        resolve({ status: res.statusCode ?? 0, json: text === '' ? undefined : JSON.parse(text) })
      })
    })
    req.on('error', reject)
    req.end(payload)
  })
}

interface Pm2Process { pid: number, pm_id: number, pm2_env: { status: string, restart_time: number } }

describeMysqlAndRedis('PM2 cluster: two instances sharing ports, Redis and MySQL', () => {
  const adminKey = `shk_admin_${randomBytes(24).toString('hex')}`
  let scratch: ScratchDatabase
  let home: string
  let env: NodeJS.ProcessEnv
  let httpPort: number
  let mqttPort: number
  const clients: MqttClient[] = []
  let publisherKey: string
  let readerKey: string

  /** Error lines the instances logged, to explain a restart. */
  const logErrors = (): string[] => ['out.log', 'error.log']
    .map((f) => join(home, 'logs', f))
    .filter((f) => existsSync(f))
    .flatMap((f) => readFileSync(f, 'utf8').split('\n'))
    .filter((line) => /"level":"error"|Error|error:/.test(line))
    .slice(-20)

  const pm2 = (...args: string[]): Promise<string> => exec(PM2, args, env)
  const processes = async (): Promise<Pm2Process[]> => JSON.parse(await pm2('jlist')) as Pm2Process[]

  /** A strategy of the publisher, made through the REST API, with the reader subscribed. */
  async function strategy(prefix: string): Promise<string> {
    const id = uniqueId(prefix)
    expect((await call(httpPort, 'POST', '/api/v1/strategies', publisherKey, { id, name: id })).status).toBe(201)
    expect((await call(httpPort, 'POST', '/api/v1/subscriptions', readerKey, { strategy_id: id })).status).toBe(201)
    return id
  }

  beforeAll(async () => {
    scratch = await scratchDatabase()
    home = mkdtempSync(join(tmpdir(), 'signalhub-pm2-'))
    httpPort = await freePort()
    mqttPort = await freePort()
    env = {
      ...process.env,
      PM2_HOME: home,
      SIGNALHUB_INSTANCES: '2',
      SIGNALHUB_LOG_DIR: join(home, 'logs'),
      DATABASE_URL: scratch.url,
      REDIS_URL: process.env.REDIS_URL,
      REDIS_PREFIX: `${uniqueId('shpm2')}:`,
      HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      MQTT_PORT: String(mqttPort),
      BOOTSTRAP_ADMIN_KEY: adminKey,
      JOBS_ENABLED: 'false',
      LOG_LEVEL: 'info',
      // the reload test posts back to back, faster than the default per-key limit of 100/s; the limit is not what it checks
      RATE_LIMIT_PER_SECOND: '100000'
    }
    // both instances start on the fresh database together: migrations take a named lock
    // and seeding the bootstrap admin tolerates the other instance doing the same
    await pm2('start', 'ecosystem.config.js')
    await until('two online instances', async () => {
      const list = await processes()
      return list.length === 2 && list.every((p) => p.pm2_env.status === 'online') ? list : undefined
    }, 30_000)
    await until('/readyz', async () => ((await call(httpPort, 'GET', '/readyz', '')).status === 200 ? true : undefined), 30_000)
    // neither instance crashed on the concurrent first start
    expect((await processes()).map((p) => p.pm2_env.restart_time)).toEqual([0, 0])
    // a publisher and a subscriber, made through the REST API with the bootstrap admin key
    const publisher = (await call(httpPort, 'POST', '/api/v1/users', adminKey, { name: 'pub', role: 'publisher' })).json
    publisherKey = (await call(httpPort, 'POST', `/api/v1/users/${publisher.id}/keys`, adminKey, {})).json.key as string
    const reader = (await call(httpPort, 'POST', '/api/v1/users', adminKey, { name: 'reader', role: 'subscriber' })).json
    readerKey = (await call(httpPort, 'POST', `/api/v1/users/${reader.id}/keys`, adminKey, {})).json.key as string
  }, 120_000)

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)))
    if (home !== undefined) {
      await pm2('kill').catch(() => undefined)
      rmSync(home, { recursive: true, force: true })
    }
    await scratch?.drop()
  }, 30_000)

  async function connect(name: string, key: string): Promise<MqttClient> {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { username: name, password: key, clientId: uniqueId(`${name}-`), reconnectPeriod: 0, connectTimeout: 5000 })
    clients.push(client)
    return client
  }

  test('a signal ingested through one instance reaches a subscriber connected to the other', async () => {
    const trend = await strategy('pm2-trend-')
    // restarts so far (`pm2 reload` counts as one), so this test can tell whether an instance crashed during it
    const restartsBefore = (await processes()).map((p) => p.pm2_env.restart_time)

    // Aedes announces each connection on $SYS/<broker id>/new/clients; Redis carries it to every instance
    const brokerOf = new Map<string, string>()
    const watcher = await connect('admin', adminKey)
    watcher.on('message', (topic, payload) => {
      const [, brokerId] = topic.split('/')
      brokerOf.set(payload.toString(), brokerId)
    })
    await watcher.subscribeAsync('$SYS/+/new/clients', { qos: 0 })

    // connections are dealt round-robin: connect subscribers until both instances hold some
    const subscribers: Array<{ client: MqttClient, seqs: number[] }> = []
    await until('subscribers on both instances', async () => {
      const client = await connect('reader', readerKey)
      const entry = { client, seqs: [] as number[] }
      client.on('message', (_t, payload) => entry.seqs.push((JSON.parse(payload.toString()) as { seq: number }).seq))
      await client.subscribeAsync(`strategy/${trend}/#`, { qos: 1 })
      subscribers.push(entry)
      await until('the $SYS notice', async () => (brokerOf.has(client.options.clientId as string) ? true : undefined), 3000)
      const brokers = new Set(subscribers.map((s) => brokerOf.get(s.client.options.clientId as string)))
      return brokers.size >= 2 && subscribers.length >= 4 ? true : undefined
    }, 20_000)
    // (only our clients count: other deployments on the same Redis announce theirs too)
    const brokerIds = new Set(subscribers.map((s) => brokerOf.get(s.client.options.clientId as string)))
    expect(brokerIds.size).toBe(2)

    // an MQTT publisher on one instance, and a subscriber known to sit on the other
    const mqttPublisher = await until('a publisher on a known instance', async () => {
      const client = await connect('pub', publisherKey)
      await until('the $SYS notice', async () => (brokerOf.has(client.options.clientId as string) ? true : undefined), 3000)
      return client
    }, 10_000)
    const publisherBroker = brokerOf.get(mqttPublisher.options.clientId as string)
    const remote = subscribers.find((s) => brokerOf.get(s.client.options.clientId as string) !== publisherBroker)
    expect(remote).toBeDefined()
    await mqttPublisher.publishAsync(`strategy/${trend}/AAPL`, JSON.stringify({ type: 'buy', execute_date: '2026-11-20T09:30:00+08:00', description: 'over MQTT' }), { qos: 1 })
    await until('the MQTT signal on the other instance', async () => (remote?.seqs.includes(1) === true ? true : undefined), 10_000)

    // REST ingest on fresh connections: each signal reaches every subscriber on both instances, in order
    for (let i = 0; i < 6; i++) {
      const res = await call(httpPort, 'POST', '/api/v1/signals', publisherKey, { strategy_id: trend, symbol: 'MSFT', type: 'sell', execute_date: '2026-11-20T10:00:00+08:00', description: `rest ${i}` })
      expect(res.status).toBe(201)
      expect(res.json.seq).toBe(i + 2)
    }
    await until('every signal at every subscriber', async () => (subscribers.every((s) => s.seqs.length >= 7) ? true : undefined), 10_000)
    for (const s of subscribers) expect([...new Set(s.seqs)].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7])

    // neither instance crashed or restarted on the way
    const restarts = (await processes()).map((p) => p.pm2_env.restart_time)
    const crashed = restarts.some((r, i) => r !== restartsBefore[i])
    expect({ restarts, errors: crashed ? logErrors() : [] }).toEqual({ restarts: restartsBefore, errors: [] })
  }, 60_000)

  test('pm2 reload replaces both instances while every REST ingest keeps succeeding', async () => {
    const during = await strategy('pm2-reload-')
    const before = (await processes()).map((p) => p.pid)
    const results: Array<{ status: number, seq?: number }> = []
    let reloading = true
    const reload = pm2('reload', 'signal-hub').finally(() => { reloading = false })
    while (reloading) {
      const res = await call(httpPort, 'POST', '/api/v1/signals', publisherKey, { strategy_id: during, symbol: 'TSLA', type: 'hold', execute_date: '2026-11-20T11:00:00+08:00', description: 'during reload' })
        .catch((err: Error) => ({ status: 0, json: { error: err.message } }))
      results.push({ status: res.status, seq: res.json?.seq })
    }
    await reload
    const after = await processes()
    expect(after.every((p) => p.pm2_env.status === 'online')).toBe(true)
    expect(after.map((p) => p.pid).filter((pid) => before.includes(pid))).toEqual([])
    expect(results.length).toBeGreaterThan(0)
    expect(results.filter((r) => r.status !== 201)).toEqual([])
    const seqs = results.map((r) => r.seq as number)
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0] + i))
  }, 60_000)
})
