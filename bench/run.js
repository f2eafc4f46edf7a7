'use strict'
/**
 * `npm run bench`: Signal Hub's performance suite (issue 7). Loopback only, bounded
 * (RUN_BUDGET_MS), each server under test and each load generator in its own process,
 * every scenario repeated REPS times and the median reported. Prints a table and, as
 * its last line, one JSON object with the figures (see docs/performance.md).
 *
 * Environment: BENCH_DATABASE_URL (mysql://… ; a scratch database bench_<random> is
 * created on that server and dropped afterwards), BENCH_REDIS_URL or REDIS_URL
 * (keys under a random prefix, removed afterwards), MOSQUITTO_URL (mqtt://host:port,
 * anonymous), BENCH_CPU_PROF=<dir> (CPU profiles of the Signal Hub processes),
 * BENCH_ONLY=fanout,ingest,e2e,scale (a subset, for profiling; the JSON then has nulls).
 */
const { setTimeout, clearTimeout } = require('node:timers')
const { URL } = require('node:url')
const { randomBytes } = require('node:crypto')
const { mkdtempSync, rmSync } = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { startServer, externalServer, runLoad, settle, databasePid } = require('./servers')
const { provision } = require('./provision')
const { median, round } = require('./stats')
const { createScratchMysql, cleanRedisPrefix } = require('./scratch')

const REPS = 3
const RUN_BUDGET_MS = 140_000
const FANOUT = { subscribers: 10, payloadBytes: 200, window: 100, warmupMs: 300, durationMs: 1200 }
// firstWarmupMs: a Signal Hub's first ingest run warms up longer, so that every measured run sees compiled (JIT) code
const INGEST = { concurrency: 16, batchConcurrency: 4, batchSize: 100, strategies: 16, warmupMs: 400, firstWarmupMs: 3000, durationMs: 1500 }
// the first repetition warms the REST → MQTT path (its topic has a subscriber only here) at the full rate for longer
const E2E = { rate: 1000, maxSockets: 32, warmupMs: 500, firstWarmupMs: 2500, durationMs: 2000 }
const SCALE = { count: 5000, concurrency: 200, users: 10 }

const ONLY = new Set((process.env.BENCH_ONLY || 'fanout,ingest,e2e,scale').split(',').map((x) => x.trim()))
const runId = randomBytes(4).toString('hex')
const began = Date.now()
const notes = []
const skipped = []

function log(line) {
  process.stderr.write(`[bench ${((Date.now() - began) / 1000).toFixed(1)}s] ${line}\n`)
}

function overBudget(what) {
  if (Date.now() - began < RUN_BUDGET_MS) return false
  skipped.push(what)
  return true
}

function hubEnv(extra) {
  return {
    HOST: '127.0.0.1', HTTP_PORT: '0', MQTT_PORT: '0', MQTT_TLS_PORT: '0',
    MQTT_TLS_CERT: '', MQTT_TLS_KEY: '', REDIS_URL: '', LOG_FILE: '', LOG_LEVEL: 'info',
    JOBS_ENABLED: 'false',
    // the bench measures the checks, not the abuse limits: one publisher sends far more than the default 200/s
    MQTT_PUBLISH_RATE: '10000000',
    RATE_LIMIT_PER_SECOND: '10000000',
    ...extra
  }
}

async function startHub(name, adminKey, extra, execArgv = []) {
  const server = await startServer(name, 'hub-server.js', hubEnv({ BOOTSTRAP_ADMIN_KEY: adminKey, ...extra }), execArgv)
  server.base = `http://127.0.0.1:${server.ports.http}`
  server.host = '127.0.0.1'
  return server
}

function fanoutOptions(target, qos, rep) {
  const creds = target.creds ?? { publisher: {}, subscribers: [{}] }
  return {
    host: target.server.host ?? '127.0.0.1', port: target.server.ports.mqtt, topic: `bench/${runId}/fanout`, qos,
    ...FANOUT, subscribers: FANOUT.subscribers,
    publisher: creds.publisher, subscriberCreds: creds.subscribers, tag: `${runId}-${target.key}-q${qos}-r${rep}`
  }
}

function credsOf(users) {
  const pick = (u) => ({ username: u.username, password: u.password })
  return { publisher: pick(users.publisher), subscribers: users.subscribers.map(pick) }
}

function signalBody(strategyId, i) {
  return { strategy_id: strategyId, symbol: `S${i % 50}`, type: 'buy', execute_date: '2026-11-21T09:30:00+08:00', description: 'bench signal', payload: { price: 231.5, qty: 100 } }
}

async function main() {
  const tmp = mkdtempSync(path.join(os.tmpdir(), `signalhub-bench-${runId}-`))
  const adminKey = randomBytes(24).toString('hex')
  const redisUrl = process.env.BENCH_REDIS_URL || process.env.REDIS_URL || undefined
  const mysqlBase = process.env.BENCH_DATABASE_URL || undefined
  const mosquittoUrl = process.env.MOSQUITTO_URL || undefined
  const redisPrefix = `bench${runId}:`
  const servers = []
  let mysql = null
  const scratchDatabases = []
  const stopAll = async () => {
    await Promise.all(servers.map((s) => s.stop().catch(() => undefined)))
    for (const db of scratchDatabases) await db.drop().catch((err) => log(`could not drop ${db.name}: ${err.message}`))
    if (redisUrl !== undefined) await cleanRedisPrefix(redisUrl, redisPrefix).catch(() => undefined)
    rmSync(tmp, { recursive: true, force: true })
  }
  const hardStop = setTimeout(() => {
    log('over the hard time limit; stopping')
    stopAll().finally(() => process.exit(2))
  }, RUN_BUDGET_MS + 25_000)
  hardStop.unref()

  try {
    if (mysqlBase !== undefined) {
      mysql = await createScratchMysql(mysqlBase, `bench_${runId}`)
      scratchDatabases.push(mysql)
    }
    else notes.push('BENCH_DATABASE_URL not set: REST ingest on SQLite only; ingest_ratio and batch_signals_per_s (MariaDB) are null')
    if (redisUrl === undefined) notes.push('neither BENCH_REDIS_URL nor REDIS_URL set: no Redis scenario; redis_ratio is null')
    if (mosquittoUrl === undefined) notes.push('MOSQUITTO_URL not set: no Mosquitto comparison')

    log('starting servers')
    const profile = process.env.BENCH_CPU_PROF ? [`--cpu-prof`, `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []
    const starting = {
      bare: startServer('bare-aedes', 'aedes-server.js'),
      hello: startServer('express-hello', 'hello-server.js'),
      hub: startHub('hub-memory', adminKey, { DATABASE_URL: `sqlite:${path.join(tmp, 'memory.sqlite')}` }, profile),
      redis: redisUrl === undefined ? null : startHub('hub-redis', adminKey, { DATABASE_URL: `sqlite:${path.join(tmp, 'redis.sqlite')}`, REDIS_URL: redisUrl, REDIS_PREFIX: redisPrefix }, profile),
      mysql: mysql === null ? null : startHub('hub-mariadb', adminKey, { DATABASE_URL: mysql.url }, profile)
    }
    const started = {}
    for (const [key, promise] of Object.entries(starting)) {
      if (promise === null) continue
      started[key] = await promise
      servers.push(started[key])
    }
    // before each measured run: wait (at most 1.5 s) until the servers and a local database are quiet
    const dbPid = mysql === null ? null : databasePid()
    let settleMs = 0
    const quiet = async () => { settleMs += await settle(servers, { dbPid }) }
    log('provisioning')
    const ingestStrategies = Array.from({ length: INGEST.strategies }, (_, i) => `bench-ingest-${i}`)
    const users = {}
    for (const key of ['hub', 'redis', 'mysql']) {
      if (started[key] === undefined) continue
      users[key] = await provision({
        base: started[key].base, adminKey, subscribers: FANOUT.subscribers, benchTopic: 'bench/#',
        strategies: key === 'redis' ? [] : ingestStrategies, e2eStrategy: key === 'redis' ? undefined : 'bench-e2e'
      })
    }

    // (a), (b), (f): fan-out
    const targets = [
      { key: 'bare', label: 'bare Aedes 1.2 (no hooks)', server: started.bare },
      { key: 'hub', label: 'Signal Hub, in-memory', server: started.hub, creds: credsOf(users.hub) }
    ]
    if (started.redis !== undefined) targets.push({ key: 'redis', label: 'Signal Hub, Redis', server: started.redis, creds: credsOf(users.redis) })
    if (mosquittoUrl !== undefined) {
      const u = new URL(mosquittoUrl)
      targets.push({ key: 'mosquitto', label: 'Mosquitto', server: externalServer('mosquitto', u.hostname, Number(u.port || 1883)) })
    }
    const fanout = {}
    for (let rep = 0; rep < (ONLY.has('fanout') ? REPS : 0); rep++) {
      for (const qos of [0, 1]) {
        for (const target of targets) {
          if (overBudget(`fanout ${target.key} qos${qos} rep ${rep + 1}`)) continue
          await quiet()
          const r = await runLoad('fanout-load.js', fanoutOptions(target, qos, rep), target.server)
          r.cpu_us_per_delivery = r.server_cpu_us / r.deliveries
          ;(fanout[`${target.key}:${qos}`] ??= []).push(r)
          log(`fanout ${target.key} qos${qos} rep${rep + 1}: ${Math.round(r.delivered_per_s)} msg/s, p99 ${r.p99_ms?.toFixed(2)} ms, ${r.cpu_us_per_delivery.toFixed(2)} µs/delivery, load generator ${Math.round(r.loadgen_cpu_pct)} % CPU`)
        }
      }
    }

    // (c): REST ingest
    const ingest = {}
    const ingestTargets = [{ key: 'hello', server: started.hello, path: '/hello', headers: {}, kinds: ['single'] }]
    for (const key of ['hub', 'mysql']) {
      if (started[key] === undefined) continue
      ingestTargets.push({ key, server: started[key], path: '/api/v1/signals', headers: { authorization: `Bearer ${users[key].publisher.password}` }, kinds: ['single', 'batch'] })
    }
    for (let rep = 0; rep < (ONLY.has('ingest') ? REPS : 0); rep++) {
      for (const target of ingestTargets) {
        for (const kind of target.kinds) {
          if (overBudget(`ingest ${target.key} ${kind} rep ${rep + 1}`)) continue
          const batch = kind === 'batch'
          const concurrency = batch ? INGEST.batchConcurrency : INGEST.concurrency
          const bodies = Array.from({ length: concurrency }, (_, i) => {
            const strategy = ingestStrategies[i % ingestStrategies.length]
            if (!batch) return JSON.stringify(signalBody(strategy, i))
            return JSON.stringify({ signals: Array.from({ length: INGEST.batchSize }, (_, n) => signalBody(strategy, n)) })
          })
          await quiet()
          const r = await runLoad('http-load.js', {
            host: '127.0.0.1', port: target.server.ports.http, path: target.path, headers: target.headers, bodies,
            itemsPerRequest: batch ? INGEST.batchSize : 1, concurrency, warmupMs: rep === 0 && kind === 'single' && target.key !== 'hello' ? INGEST.firstWarmupMs : INGEST.warmupMs, durationMs: INGEST.durationMs
          }, target.server)
          r.server_cpu_pct = r.server_cpu_us / (r.seconds * 1e6) * 100
          ;(ingest[`${target.key}:${kind}`] ??= []).push(r)
          log(`ingest ${target.key} ${kind} rep${rep + 1}: ${Math.round(r.req_per_s)} req/s, ${Math.round(r.items_per_s)} signals/s, p99 ${r.p99_ms?.toFixed(1)} ms, server ${Math.round(r.server_cpu_pct)} % CPU${r.failed > 0 ? `, ${r.failed} failed: ${r.first_error}` : ''}`)
        }
      }
    }

    // (d): end to end, on MariaDB when given (the production database), else SQLite
    const e2eKey = started.mysql !== undefined ? 'mysql' : 'hub'
    const e2e = []
    for (let rep = 0; rep < (ONLY.has('e2e') ? REPS : 0); rep++) {
      if (overBudget(`e2e rep ${rep + 1}`)) continue
      const hub = started[e2eKey]
      await quiet()
      const r = await runLoad('e2e-load.js', {
        mqtt: { host: '127.0.0.1', port: hub.ports.mqtt }, subscriber: credsOf(users[e2eKey]).subscribers[0],
        http: { host: '127.0.0.1', port: hub.ports.http }, publisherKey: users[e2eKey].publisher.password,
        strategyId: 'bench-e2e', symbol: 'E2E', ...E2E, warmupMs: rep === 0 ? E2E.firstWarmupMs : E2E.warmupMs, tag: `${runId}-r${rep}`
      }, hub)
      e2e.push(r)
      log(`e2e ${e2eKey} rep${rep + 1}: ${Math.round(r.rate_per_s)}/s sent, ${r.received}/${r.sent} received, p50 ${r.p50_ms?.toFixed(2)} ms, p99 ${r.p99_ms?.toFixed(2)} ms (POST → 201: p50 ${r.http_p50_ms?.toFixed(2)} ms, p99 ${r.http_p99_ms?.toFixed(2)} ms)${r.failed > 0 ? `, ${r.failed} failed: ${r.first_error}` : ''}`)
    }

    // (e): 5,000 idle authenticated connections, a fresh hub each time
    for (const key of ['bare', 'hello', 'redis', 'mysql']) {
      if (started[key] === undefined) continue
      await started[key].stop()
    }
    const scale = []
    for (let rep = 0; rep < (ONLY.has('scale') ? REPS : 0); rep++) {
      if (overBudget(`scale rep ${rep + 1}`)) continue
      let databaseUrl = `sqlite:${path.join(tmp, `scale-${rep}.sqlite`)}`
      if (mysqlBase !== undefined) {
        const db = await createScratchMysql(mysqlBase, `bench_${runId}_scale${rep}`)
        scratchDatabases.push(db)
        databaseUrl = db.url
      }
      const hub = await startHub(`hub-scale-${rep}`, adminKey, {
        DATABASE_URL: databaseUrl, MQTT_MAX_CONNECTIONS_PER_USER: String(SCALE.count)
      }, ['--expose-gc', ...profile])
      servers.push(hub)
      const scaleUsers = await provision({ base: hub.base, adminKey, subscribers: SCALE.users })
      const before = await hub.memory()
      let after = null
      const r = await runLoad('connections-load.js', {
        host: '127.0.0.1', port: hub.ports.mqtt, creds: credsOf(scaleUsers).subscribers, count: SCALE.count,
        concurrency: SCALE.concurrency, tag: `${runId}-scale-r${rep}`
      }, null, async () => {
        await new Promise((resolve) => setTimeout(resolve, 300))
        after = await hub.memory()
      })
      r.rss_kb_per_conn = (after.rss - before.rss) / 1024 / r.connected
      r.heap_kb_per_conn = (after.heapUsed - before.heapUsed) / 1024 / r.connected
      scale.push(r)
      log(`scale rep${rep + 1}: ${r.connected} connected (${r.refused} refused${r.first_error ? `: ${r.first_error}` : ''}) at ${Math.round(r.connects_per_s)}/s, RSS ${r.rss_kb_per_conn.toFixed(1)} KiB/conn, heap ${r.heap_kb_per_conn.toFixed(1)} KiB/conn`)
      await hub.stop()
    }

    log(`waited ${(settleMs / 1000).toFixed(1)} s in all for quiet servers before the runs`)
    report({ fanout, targets, ingest, e2e, e2eKey, scale, settleMs, mysql: mysql !== null, redis: redisUrl !== undefined, mosquitto: mosquittoUrl !== undefined })
  } finally {
    await stopAll()
    clearTimeout(hardStop)
  }
}

function med(runs, field) {
  return runs === undefined ? null : median(runs.map((r) => r[field]))
}

function ratio(a, b) {
  return a === null || b === null || b === 0 ? null : a / b
}

function report(r) {
  const f = (key, qos, field) => med(r.fanout[`${key}:${qos}`], field)
  const rows = []
  const line = (cells) => rows.push(cells)
  line(['scenario', 'rate (median)', 'p50 ms', 'p99 ms', 'server CPU', 'note'])
  for (const t of r.targets) {
    for (const qos of [0, 1]) {
      line([`(a) fan-out 1→10 QoS ${qos}: ${t.label}`, `${fmt(f(t.key, qos, 'delivered_per_s'))} msg/s`, fmt(f(t.key, qos, 'p50_ms'), 2), fmt(f(t.key, qos, 'p99_ms'), 2),
        `${fmt(f(t.key, qos, 'cpu_us_per_delivery'), 2)} µs/delivery`, `load generator ${fmt(f(t.key, qos, 'loadgen_cpu_pct'))} % CPU`])
    }
  }
  const i = (key, kind, field) => med(r.ingest[`${key}:${kind}`], field)
  line(['(c) Express hello-world POST, 16 connections', `${fmt(i('hello', 'single', 'req_per_s'))} req/s`, fmt(i('hello', 'single', 'p50_ms'), 2), fmt(i('hello', 'single', 'p99_ms'), 2), '', ''])
  for (const [key, label] of [['hub', 'SQLite'], ['mysql', 'MariaDB']]) {
    if (r.ingest[`${key}:single`] === undefined) continue
    line([`(c) ingest single-signal POST, 16 connections, ${label}`, `${fmt(i(key, 'single', 'items_per_s'))} signals/s`, fmt(i(key, 'single', 'p50_ms'), 2), fmt(i(key, 'single', 'p99_ms'), 2), '', failures(r.ingest[`${key}:single`])])
    line([`(c) ingest batch of 100, 4 connections, ${label}`, `${fmt(i(key, 'batch', 'items_per_s'))} signals/s`, fmt(i(key, 'batch', 'p50_ms'), 2), fmt(i(key, 'batch', 'p99_ms'), 2), '', failures(r.ingest[`${key}:batch`])])
  }
  const e2eDb = r.e2eKey === 'mysql' ? 'MariaDB' : 'SQLite'
  line([`(d) REST POST → MQTT at ${E2E.rate}/s, ${e2eDb}`, `${fmt(med(r.e2e, 'rate_per_s'))} /s sent`, fmt(med(r.e2e, 'p50_ms'), 2), fmt(med(r.e2e, 'p99_ms'), 2), '', `${fmt(med(r.e2e, 'received'))}/${fmt(med(r.e2e, 'sent'))} received`])
  line([`(e) ${SCALE.count} idle authenticated MQTT connections`, `${fmt(med(r.scale, 'connects_per_s'))} connects/s`, '', '', `${fmt(med(r.scale, 'rss_kb_per_conn'), 1)} KiB RSS/conn`, `heap ${fmt(med(r.scale, 'heap_kb_per_conn'), 1)} KiB/conn`])

  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => String(row[c]).length)))
  const out = rows.map((row) => row.map((cell, c) => String(cell).padEnd(widths[c])).join(' | ').trimEnd())
  out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('-|-'))
  process.stdout.write(`\nSignal Hub bench — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, median of ${REPS}\n`)
  process.stdout.write(out.join('\n') + '\n')
  for (const note of notes) process.stdout.write(`note: ${note}\n`)
  if (skipped.length > 0) process.stdout.write(`note: time budget reached, skipped: ${skipped.join('; ')}\n`)

  const cpuRatio = (qos) => ratio(f('hub', qos, 'cpu_us_per_delivery'), f('bare', qos, 'cpu_us_per_delivery'))
  const redisRatio = (qos) => ratio(f('redis', qos, 'delivered_per_s'), f('hub', qos, 'delivered_per_s'))
  const maxOf = (a, b) => (a === null || b === null ? null : Math.max(a, b))
  const minOf = (a, b) => (a === null || b === null ? null : Math.min(a, b))
  const summary = {
    fanout_qos0_ratio: round(ratio(f('hub', 0, 'delivered_per_s'), f('bare', 0, 'delivered_per_s')), 3),
    fanout_qos1_ratio: round(ratio(f('hub', 1, 'delivered_per_s'), f('bare', 1, 'delivered_per_s')), 3),
    cpu_per_delivery_ratio: round(maxOf(cpuRatio(0), cpuRatio(1)), 3),
    redis_ratio: round(minOf(redisRatio(0), redisRatio(1)), 3),
    ingest_signals_per_s: round(i('mysql', 'single', 'items_per_s')),
    ingest_ratio: round(ratio(i('mysql', 'single', 'req_per_s'), i('hello', 'single', 'req_per_s')), 3),
    batch_signals_per_s: round(i('mysql', 'batch', 'items_per_s')),
    e2e_p50_ms: round(med(r.e2e, 'p50_ms'), 2),
    e2e_p99_ms: round(med(r.e2e, 'p99_ms'), 2),
    rss_kb_per_conn: round(med(r.scale, 'rss_kb_per_conn'), 1)
  }
  if (r.mosquitto) {
    summary.vs_mosquitto_qos0 = round(ratio(f('hub', 0, 'delivered_per_s'), f('mosquitto', 0, 'delivered_per_s')), 3)
    summary.vs_mosquitto_qos1 = round(ratio(f('hub', 1, 'delivered_per_s'), f('mosquitto', 1, 'delivered_per_s')), 3)
  }
  const raw = {
    cpu_per_delivery_ratio_qos0: round(cpuRatio(0), 3),
    cpu_per_delivery_ratio_qos1: round(cpuRatio(1), 3),
    redis_ratio_qos0: round(redisRatio(0), 3),
    redis_ratio_qos1: round(redisRatio(1), 3),
    ingest_ratio_sqlite: round(ratio(i('hub', 'single', 'req_per_s'), i('hello', 'single', 'req_per_s')), 3),
    batch_signals_per_s_sqlite: round(i('hub', 'batch', 'items_per_s')),
    hello_req_per_s: round(i('hello', 'single', 'req_per_s')),
    ingest_single_per_s_mariadb: round(i('mysql', 'single', 'items_per_s')),
    ingest_single_per_s_sqlite: round(i('hub', 'single', 'items_per_s')),
    ingest_single_p99_ms_mariadb: round(i('mysql', 'single', 'p99_ms'), 2),
    ingest_single_p99_ms_sqlite: round(i('hub', 'single', 'p99_ms'), 2),
    e2e_database: r.e2eKey === 'mysql' ? 'mariadb' : 'sqlite',
    e2e_rate_per_s: round(med(r.e2e, 'rate_per_s')),
    connects_per_s: round(med(r.scale, 'connects_per_s')),
    connections: SCALE.count
  }
  for (const t of r.targets) {
    for (const qos of [0, 1]) {
      raw[`fanout_${t.key}_qos${qos}_msg_per_s`] = round(f(t.key, qos, 'delivered_per_s'))
      raw[`fanout_${t.key}_qos${qos}_p50_ms`] = round(f(t.key, qos, 'p50_ms'), 3)
      raw[`fanout_${t.key}_qos${qos}_p99_ms`] = round(f(t.key, qos, 'p99_ms'), 3)
      raw[`fanout_${t.key}_qos${qos}_cpu_us_per_delivery`] = round(f(t.key, qos, 'cpu_us_per_delivery'), 2)
    }
  }
  raw.settle_seconds = round(r.settleMs / 1000, 1)
  raw.seconds = round((Date.now() - began) / 1000, 1)
  raw.database = r.mysql ? 'mariadb+sqlite' : 'sqlite'
  process.stdout.write(JSON.stringify({ ...summary, raw }) + '\n')
}

function failures(runs) {
  const failed = runs.reduce((n, x) => n + x.failed, 0)
  return failed === 0 ? '' : `${failed} failed: ${runs.find((x) => x.first_error)?.first_error ?? ''}`
}

function fmt(value, digits = 0) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–'
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

let finished = false
// nothing left to wait on while the run has not finished: a step waits on something that can no longer happen
process.once('beforeExit', () => {
  if (finished) return
  process.stderr.write('bench failed: the run stopped without finishing (a server or load generator went away)\n')
  process.exit(1)
})
main().then(() => {
  finished = true
  process.exit(0)
}, (err) => {
  finished = true
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`)
  process.exit(1)
})
