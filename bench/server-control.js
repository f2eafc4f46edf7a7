'use strict'
/**
 * What every server the bench starts (Signal Hub, bare Aedes, Express hello-world)
 * answers over IPC, so the parent can read the server's own CPU time and memory:
 * `{ cmd: 'cpu' }` → `{ type: 'cpu', id, usage: process.cpuUsage(), rss }`,
 * `{ cmd: 'gc' }` → a full collection (when started with --expose-gc), then `{ type: 'mem', id, rss, heapUsed }`,
 * `{ cmd: 'stop' }` → runs `stop` and exits.
 */
const { setTimeout } = require('node:timers')
function serveControl(stop) {
  process.on('message', (msg) => {
    if (msg === null || typeof msg !== 'object') return
    if (msg.cmd === 'cpu') {
      process.send({ type: 'cpu', id: msg.id, usage: process.cpuUsage(), rss: process.memoryUsage.rss() })
    } else if (msg.cmd === 'gc') {
      if (typeof global.gc === 'function') {
        global.gc()
        global.gc()
      }
      const mem = process.memoryUsage()
      process.send({ type: 'mem', id: msg.id, rss: mem.rss, heapUsed: mem.heapUsed })
    } else if (msg.cmd === 'stop') {
      const exit = setTimeout(() => process.exit(0), 8000)
      exit.unref()
      Promise.resolve(stop()).catch(() => undefined).then(() => process.exit(0))
    }
  })
  process.on('disconnect', () => process.exit(0))
}

module.exports = { serveControl }
