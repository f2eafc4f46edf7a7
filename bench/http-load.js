'use strict'
/**
 * HTTP load generator (its own process): `concurrency` keep-alive connections, each
 * sending POSTs back to back (closed loop) for a warm-up and then a measured period.
 * Bodies are given per connection (connection i sends bodies[i % bodies.length]). The
 * requests go through the minimal client of http-light.js.
 * Reports requests/s, items/s (items per request × requests), p50/p99 latency and
 * non-2xx answers.
 */
const { HttpConnection, postBytes } = require('./http-light')
const { mark, sleep, runOnRequest } = require('./ipc')
const { quantile, sortedCopy } = require('./stats')

/**
 * @param {{ host: string, port: number, path: string, headers: Record<string, string>, bodies: string[],
 *   itemsPerRequest: number, concurrency: number, warmupMs: number, durationMs: number }} o
 */
async function run(o) {
  const requests = o.bodies.map((b) => postBytes(o.host, o.port, o.path, o.headers, b))
  const connections = []
  let measuring = false
  let stopped = false
  let ok = 0
  let failed = 0
  let firstError = null
  const latencies = []

  const once = async (connection, bytes) => {
    const started = process.hrtime.bigint()
    let res
    try {
      res = await connection.request(bytes)
    } catch (err) {
      if (measuring) failed++
      firstError ??= err.message
      return 'unreachable'
    }
    if (measuring) {
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6)
      if (res.status >= 200 && res.status < 300) ok++
      else failed++
    }
    if (res.status >= 300) firstError ??= `${res.status} ${res.body.toString().slice(0, 300)}`
    return 'answered'
  }

  const workers = []
  for (let i = 0; i < o.concurrency; i++) {
    const bytes = requests[i % requests.length]
    const connection = new HttpConnection(o.host, o.port)
    connections.push(connection)
    workers.push((async () => {
      while (!stopped) {
        // a refused connection fails at once: pause rather than spin while the server is away
        if (await once(connection, bytes) === 'unreachable') await sleep(10)
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
  for (const connection of connections) connection.close()
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
