'use strict'
/** IPC helpers shared by the load generators (child side). */
const { setTimeout } = require('node:timers')

/** Resolves with the next message from the parent whose `cmd` is `cmd`. */
function waitForParent(cmd) {
  return new Promise((resolve) => {
    const onMessage = (msg) => {
      if (msg && msg.cmd === cmd) {
        process.off('message', onMessage)
        resolve(msg)
      }
    }
    process.on('message', onMessage)
  })
}

/** Tells the parent a measuring phase starts or ends, and waits until it has noted the server's CPU. */
async function mark(phase) {
  process.send({ type: 'mark', phase })
  await waitForParent('marked')
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Runs `run(options)` on the parent's `{ cmd: 'run' }` and reports its result or error.
 * A load generator whose parent has gone (stopped, or killed over its time limit) exits
 * rather than go on loading a machine nobody measures.
 */
function runOnRequest(run) {
  process.once('disconnect', () => process.exit(2))
  process.once('message', (msg) => {
    if (msg.cmd !== 'run') return
    run(msg).then((result) => {
      process.send({ type: 'result', ...result }, () => process.exit(0))
    }, (err) => {
      process.send({ type: 'error', message: err.stack ?? err.message }, () => process.exit(1))
    })
  })
}

module.exports = { waitForParent, mark, sleep, runOnRequest }
