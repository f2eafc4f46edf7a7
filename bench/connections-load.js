'use strict'
/**
 * Connection-scale generator (its own process): opens `count` authenticated MQTT
 * connections (clean session, no keep-alive pings, idle), `concurrency` CONNECTs at a
 * time; reports the connect rate, then holds them open while the parent reads the
 * broker's memory (mark 'end'), then disconnects them all.
 */
const { LightClient } = require('./mqtt-light')
const { mark, runOnRequest } = require('./ipc')

/**
 * @param {{ host: string, port: number, creds: Array<{ username: string, password: string }>, count: number,
 *   concurrency: number, tag: string }} o
 */
async function run(o) {
  const clients = []
  let next = 0
  let refused = 0
  let firstError = null
  const t0 = process.hrtime.bigint()
  const worker = async () => {
    while (next < o.count) {
      const i = next++
      const client = new LightClient({ host: o.host, port: o.port, clientId: `${o.tag}-${i}`, ...o.creds[i % o.creds.length] })
      try {
        await client.connect()
        clients.push(client)
      } catch (err) {
        refused++
        firstError ??= err.message
      }
    }
  }
  await Promise.all(Array.from({ length: o.concurrency }, worker))
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  await mark('end')
  const open = clients.filter((c) => !c.closed).length
  await Promise.all(clients.map((c) => c.end()))
  return { connected: clients.length, open_at_mark: open, refused, first_error: firstError, seconds, connects_per_s: clients.length / seconds }
}

runOnRequest(run)
