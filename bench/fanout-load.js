'use strict'
/**
 * Load generator (its own process, forked by bench/run.js): 1 publisher → N subscribers
 * on one topic, fixed-size payloads, QoS 0 or 1, a bounded in-flight window.
 *
 * A message counts as in flight from its publish until every subscriber has received it
 * (or a later one: delivery per subscriber is ordered, so a lost QoS 0 message cannot
 * stall the window). The payload carries a sequence number and the send time
 * (process.hrtime, CLOCK_MONOTONIC), so publish→receive latency is measured here.
 *
 * IPC with the parent as in ipc.js: the parent snapshots the broker's CPU time at the
 * start and end marks of the measured period.
 */
const { setInterval, clearInterval } = require('node:timers')
const { Buffer } = require('node:buffer')
const { LightClient } = require('./mqtt-light')
const { PublishWriter } = require('./mqtt-frames')
const { quantile, sortedCopy } = require('./stats')
const { mark, sleep, runOnRequest } = require('./ipc')

const MAX_SAMPLES = 4_000_000

/**
 * @param {{ host: string, port: number, topic: string, qos: 0 | 1, subscribers: number, payloadBytes: number,
 *   window: number, warmupMs: number, durationMs: number, publisher: { username?: string, password?: string },
 *   subscriberCreds: Array<{ username?: string, password?: string }>, tag: string }} o
 */
async function run(o) {
  const subs = []
  for (let i = 0; i < o.subscribers; i++) {
    const creds = o.subscriberCreds[i % o.subscriberCreds.length] ?? {}
    const client = new LightClient({ host: o.host, port: o.port, clientId: `${o.tag}-sub-${i}`, ...creds })
    await client.connect()
    const granted = await client.subscribe(o.topic, o.qos)
    if (granted[0] === 128) throw new Error(`subscription to ${o.topic} refused`)
    subs.push(client)
  }
  const pub = new LightClient({ host: o.host, port: o.port, clientId: `${o.tag}-pub`, ...o.publisher })
  await pub.connect()

  const lastSeen = new Float64Array(o.subscribers).fill(-1)
  let sent = 0
  let minSeen = -1
  let received = 0
  let measuring = false
  let measuredReceived = 0
  const samples = new Float64Array(MAX_SAMPLES)
  let sampleCount = 0
  let lastProgress = Date.now()
  let stopped = false
  const writer = new PublishWriter(o.topic, Buffer.alloc(o.payloadBytes, 0x61), o.qos)
  const stamp = (buf, at) => {
    buf.writeBigUInt64BE(process.hrtime.bigint(), at)
    buf.writeUInt32BE(sent++, at + 8)
  }

  // the window refills once per turn of the event loop, in one write, however many
  // messages the chunk just read completed
  let pumpScheduled = false
  const pump = () => {
    pumpScheduled = false
    if (stopped) return
    const room = o.window - (sent - (minSeen + 1))
    if (room > 0) pub.publishMany(writer, room, stamp)
  }
  const schedulePump = () => {
    if (pumpScheduled) return
    pumpScheduled = true
    process.nextTick(pump)
  }

  subs.forEach((client, i) => {
    client.on('message', (packet) => {
      const now = process.hrtime.bigint()
      const p = packet.payload
      const seq = p.readUInt32BE(8)
      received++
      if (measuring) {
        measuredReceived++
        if (sampleCount < MAX_SAMPLES) samples[sampleCount++] = Number(now - p.readBigUInt64BE(0)) / 1000
      }
      const before = lastSeen[i]
      lastSeen[i] = seq
      if (before === minSeen) {
        let m = Infinity
        for (let k = 0; k < lastSeen.length; k++) if (lastSeen[k] < m) m = lastSeen[k]
        if (m !== minSeen) {
          minSeen = m
          lastProgress = Date.now()
          schedulePump()
        }
      }
    })
  })

  const cpuStart = process.cpuUsage()
  pump()
  const watchdog = setInterval(() => {
    if (Date.now() - lastProgress > 3000) {
      stopped = true
      process.send({ type: 'error', message: `stalled: sent ${sent}, slowest subscriber at ${minSeen}` })
      process.exit(1)
    }
  }, 500)
  await sleep(o.warmupMs)
  await mark('start')
  const t0 = process.hrtime.bigint()
  const loadCpu0 = process.cpuUsage(cpuStart)
  measuring = true
  await sleep(o.durationMs)
  measuring = false
  const t1 = process.hrtime.bigint()
  const loadCpu1 = process.cpuUsage(cpuStart)
  await mark('end')
  stopped = true
  clearInterval(watchdog)
  const seconds = Number(t1 - t0) / 1e9
  const sorted = sortedCopy(samples.subarray(0, sampleCount))
  const loadCpuUs = (loadCpu1.user + loadCpu1.system) - (loadCpu0.user + loadCpu0.system)
  const result = {
    deliveries: measuredReceived,
    seconds,
    delivered_per_s: measuredReceived / seconds,
    p50_ms: quantile(sorted, 0.5) / 1000,
    p99_ms: quantile(sorted, 0.99) / 1000,
    loadgen_cpu_pct: loadCpuUs / (seconds * 1e6) * 100,
    total_received: received
  }
  await Promise.all([pub.end(), ...subs.map((s) => s.end())])
  return result
}

runOnRequest(run)
