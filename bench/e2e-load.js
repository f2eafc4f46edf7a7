'use strict'
/**
 * End-to-end load generator (its own process): one MQTT subscriber on
 * `strategy/<id>/#` and a paced REST publisher sending `rate` single-signal POSTs per
 * second over keep-alive connections. Each signal's payload carries its send time
 * (process.hrtime, CLOCK_MONOTONIC); latency = MQTT receive time − POST send time.
 */
const { setInterval, clearInterval } = require('node:timers')
const { HttpConnection, postBytes } = require('./http-light')
const { LightClient } = require('./mqtt-light')
const { mark, sleep, runOnRequest } = require('./ipc')
const { quantile, sortedCopy } = require('./stats')

const TICK_MS = 2

/**
 * @param {{ mqtt: { host: string, port: number }, subscriber: { username: string, password: string },
 *   http: { host: string, port: number }, publisherKey: string, strategyId: string, symbol: string,
 *   rate: number, maxSockets: number, warmupMs: number, durationMs: number, tag: string }} o
 */
async function run(o) {
  const sub = new LightClient({ ...o.mqtt, clientId: `${o.tag}-e2e-sub`, ...o.subscriber })
  await sub.connect()
  const granted = await sub.subscribe(`strategy/${o.strategyId}/#`, 1)
  if (granted[0] === 128) throw new Error('e2e subscription refused')
  const latencies = []
  const answered = []
  let received = 0
  let measuredSent = 0
  let failed = 0
  let firstError = null
  sub.on('message', (packet) => {
    const now = process.hrtime.bigint()
    if (packet.retain) return
    const signal = JSON.parse(packet.payload.toString())
    if (signal.payload?.m !== 1) return
    received++
    latencies.push(Number(now - BigInt(signal.payload.t)) / 1e6)
  })

  // keep-alive connections, up to maxSockets; a POST waits for a free one when all are busy
  const connections = []
  const idle = []
  const queued = []
  const execute = new Date().toISOString()
  let measuring = false
  let stopping = false
  // POST → 201 counts from when the signal was made, as the end-to-end time does (a wait for a free connection included)
  const send = (connection, bytes, timed, madeAt) => {
    connection.request(bytes).then((res) => {
      if (timed) answered.push(Number(process.hrtime.bigint() - madeAt) / 1e6)
      if (res.status !== 201) {
        failed++
        firstError ??= `HTTP ${res.status}`
      }
    }, (err) => {
      if (stopping) return
      failed++
      firstError ??= err.message
    }).finally(() => {
      const next = queued.shift()
      if (next === undefined) idle.push(connection)
      else send(connection, next.bytes, next.timed, next.madeAt)
    })
  }
  const post = () => {
    const bytes = postBytes(o.http.host, o.http.port, '/api/v1/signals', { authorization: `Bearer ${o.publisherKey}` }, JSON.stringify({
      strategy_id: o.strategyId, symbol: o.symbol, type: 'buy', execute_date: execute, description: 'e2e',
      payload: { t: process.hrtime.bigint().toString(), m: measuring ? 1 : 0 }
    }))
    const madeAt = process.hrtime.bigint()
    if (measuring) measuredSent++
    let connection = idle.pop()
    if (connection === undefined && connections.length < o.maxSockets) {
      connection = new HttpConnection(o.http.host, o.http.port)
      connections.push(connection)
    }
    if (connection === undefined) queued.push({ bytes, timed: measuring, madeAt })
    else send(connection, bytes, measuring, madeAt)
  }

  let issued = 0
  let started = process.hrtime.bigint()
  const pacer = setInterval(() => {
    const due = Math.floor(Number(process.hrtime.bigint() - started) / 1e9 * o.rate)
    while (issued < due) {
      post()
      issued++
    }
  }, TICK_MS)
  await sleep(o.warmupMs)
  await mark('start')
  measuring = true
  await sleep(o.durationMs)
  measuring = false
  await mark('end')
  clearInterval(pacer)
  const achievedRate = measuredSent / (o.durationMs / 1000)
  // let the last signals arrive
  const deadline = Date.now() + 1500
  while (received < measuredSent && Date.now() < deadline) await sleep(20)
  stopping = true
  for (const connection of connections) connection.close()
  await sub.end()
  const sorted = sortedCopy(latencies)
  const http201 = sortedCopy(answered)
  started = 0n
  return {
    sent: measuredSent, received, failed, first_error: firstError,
    rate_per_s: achievedRate,
    p50_ms: quantile(sorted, 0.5), p99_ms: quantile(sorted, 0.99), max_ms: sorted.length > 0 ? sorted[sorted.length - 1] : null,
    // POST sent → 201 read: the part of the end-to-end time spent before the broker
    http_p50_ms: quantile(http201, 0.5), http_p99_ms: quantile(http201, 0.99)
  }
}

runOnRequest(run)
