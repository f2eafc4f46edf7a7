'use strict'
/**
 * The reference broker: a bare Aedes 1.2 with in-memory persistence and no hooks at
 * all (no authentication, no ACL, no audit), on a plain TCP server, as a user would
 * start it from Aedes' README. Started in its own process by bench/run.js; replies
 * `{ type: 'ready', port }` and then serves the IPC control messages of server-control.js.
 */
const net = require('node:net')
const { serveControl } = require('./server-control')

async function main() {
  const { Aedes } = await import('aedes')
  const aedes = await Aedes.createBroker()
  const server = net.createServer(aedes.handle)
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  serveControl(() => new Promise((resolve) => aedes.close(() => server.close(() => resolve()))))
  process.send({ type: 'ready', ports: { mqtt: server.address().port } })
}

main().catch((err) => {
  process.send({ type: 'error', message: err.message })
  process.exit(1)
})
