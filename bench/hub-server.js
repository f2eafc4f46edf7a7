'use strict'
/**
 * Signal Hub under test, in its own process: the compiled service (dist/, `npm run build`)
 * started exactly as main.ts starts it, `startHub(loadConfig(env))`, with the
 * environment the parent passes. Replies `{ type: 'ready', ports }`, then serves the
 * IPC control messages of server-control.js.
 */
const { loadConfig } = require('../dist/core/config')
const { configureLogger } = require('../dist/core/logger')
const { startHub } = require('../dist/hub')
const { serveControl } = require('./server-control')

async function main() {
  const config = loadConfig(process.env)
  configureLogger(config)
  const hub = await startHub(config)
  serveControl(() => hub.stop())
  process.send({ type: 'ready', ports: hub.ports })
}

main().catch((err) => {
  process.send({ type: 'error', message: err.stack ?? err.message })
  process.exit(1)
})
