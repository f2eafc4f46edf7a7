'use strict'
/**
 * HTTP load generator (its own process): `concurrency` keep-alive connections, each
 * sending POSTs back to back (closed loop) for a warm-up and then a measured period.
 * Bodies are given per connection (connection i sends bodies[i % bodies.length]).
 * Reports requests/s, items/s (items per request × requests), p50/p99 latency and
 * non-2xx answers.
 */
const { Buffer } = require('node:buffer')
const http = require('node:http')
const { mark, sleep, runOnRequest } = require('./ipc')
const { quantile, sortedCopy } = require('./stats')

/**
 * @param {{ host: string, port: number, path: string, headers: Record<string, string>, bodies: string[],
 *   itemsPerRequest: number, concurrency: number, warmupMs: number, durationMs: number }} o
 */
async function run(o) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency })
  const bodies = o.bodies.map((b) => Buffer.from(b))
  let measuring = false
  let stopped = false
  let ok = 0
  let failed = 0
  let firstError = null
  const latencies = []

  const once = (body) => new Promise((resolve) => {
    const started = process.hrtime.bigint()
    const req = http.request({
      host: o.host, port: o.port, path: o.path, method: 'POST', agent,
      headers: { ...o.headers, 'content-type': 'application/json', 'content-length': body.length }
    }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => {
        if (measuring) {
          latencies.push(Number(process.hrtime.bigint() - started) / 1e6)
          if (res.statusCode >= 200 && res.statusCode < 300) ok++
          else {
            failed++
            firstError ??= `${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 300)}`
          }
        } else if (res.statusCode >= 300) {
          firstError ??= `${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 300)}`
        }
        resolve('answered')
      })
    })
    req.on('error', (err) => {
      if (measuring) failed++
      firstError ??= err.message
      resolve('unreachable')
    })
    req.end(body)
  })

  const workers = []
  for (let i = 0; i < o.concurrency; i++) {
    const body = bodies[i % bodies.length]
    workers.push((async () => {
      while (!stopped) {
        // a refused connection fails at once: pause rather than spin while the server is away
        if (await once(body) === 'unreachable') await sleep(10)
      }
    })())
  }
  await sleep(o.warmupMs)
  await mark('start')
  const t0 = process.hrtime.bigint()
  const cpu0 = process.cpuUsage()
  measuring = true
  await sleep(o.durationMs)
  measuring = false
  const t1 = process.hrtime.bigint()
  const cpu = process.cpuUsage(cpu0)
  await mark('end')
  stopped = true
  await Promise.all(workers)
  agent.destroy()
  const seconds = Number(t1 - t0) / 1e9
  const sorted = sortedCopy(latencies)
  return {
    requests: ok, failed, seconds,
    req_per_s: ok / seconds,
    items_per_s: ok * o.itemsPerRequest / seconds,
    p50_ms: quantile(sorted, 0.5),
    p99_ms: quantile(sorted, 0.99),
    loadgen_cpu_pct: (cpu.user + cpu.system) / (seconds * 1e6) * 100,
    first_error: firstError
  }
}

runOnRequest(run)
