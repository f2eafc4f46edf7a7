'use strict'
/**
 * Starting the servers under test as child processes, and talking to them: each one
 * replies 'ready' with its ports and answers the control messages of server-control.js.
 * Mosquitto (not ours) is read from /proc instead.
 */
const { setTimeout, clearTimeout } = require('node:timers')
const { fork, execFileSync } = require('node:child_process')
const { readFileSync } = require('node:fs')
const path = require('node:path')

const READY_TIMEOUT_MS = 60_000

/**
 * @typedef {{ name: string, proc: import('node:child_process').ChildProcess | null, ports: Record<string, number>,
 *   cpuMicros(): Promise<number>, memory(): Promise<{ rss: number, heapUsed: number }>, stop(): Promise<void> }} Server
 */

/** Forks `bench/<script>` with `env`; resolves once it is ready. */
function startServer(name, script, env = {}, execArgv = []) {
  const proc = fork(path.join(__dirname, script), [], {
    env: { ...process.env, ...env },
    execArgv,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc']
  })
  let nextId = 0
  // a server that has exited answers nothing: its requests fail instead of waiting forever
  const request = (cmd, type) => new Promise((resolve, reject) => {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      reject(new Error(`${name}: exited (${proc.exitCode ?? proc.signalCode}) during the run`))
      return
    }
    const id = ++nextId
    const onExit = (code, signal) => {
      proc.off('message', onMessage)
      reject(new Error(`${name}: exited (${code ?? signal}) during the run`))
    }
    const onMessage = (msg) => {
      if (msg && msg.type === type && msg.id === id) {
        proc.off('message', onMessage)
        proc.off('exit', onExit)
        resolve(msg)
      }
    }
    proc.on('message', onMessage)
    proc.once('exit', onExit)
    proc.send({ cmd, id }, (err) => {
      if (err === null) return
      proc.off('message', onMessage)
      proc.off('exit', onExit)
      reject(new Error(`${name}: ${err.message}`))
    })
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: not ready after ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS)
    proc.once('exit', (code) => reject(new Error(`${name}: exited with ${code} before it was ready`)))
    const onMessage = (msg) => {
      if (msg.type === 'error') {
        clearTimeout(timer)
        reject(new Error(`${name}: ${msg.message}`))
      } else if (msg.type === 'ready') {
        clearTimeout(timer)
        proc.off('message', onMessage)
        resolve({
          name,
          proc,
          ports: msg.ports,
          cpuMicros: async () => {
            const { usage } = await request('cpu', 'cpu')
            return usage.user + usage.system
          },
          memory: async () => {
            const { rss, heapUsed } = await request('gc', 'mem')
            return { rss, heapUsed }
          },
          stop: () => new Promise((done) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return done()
            const kill = setTimeout(() => proc.kill('SIGKILL'), 10_000)
            proc.once('exit', () => {
              clearTimeout(kill)
              done()
            })
            proc.send({ cmd: 'stop' }, (err) => {
              if (err !== null) proc.kill('SIGKILL')
            })
          })
        })
      }
    }
    proc.on('message', onMessage)
  })
}

/** The pid of a local mosquitto, for its CPU time; null when it cannot be found. */
function mosquittoPid() {
  try {
    const pids = execFileSync('pidof', ['mosquitto'], { encoding: 'utf8' }).trim().split(/\s+/)
    return pids.length === 1 ? Number(pids[0]) : null
  } catch {
    return null
  }
}

/** CPU time (user + system, µs) of another process, from /proc/<pid>/stat (clock ticks, usually 100 Hz). */
function procCpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  return ticks * (1e6 / clockTicksPerSecond())
}

let ticksPerSecond = null
function clockTicksPerSecond() {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      ticksPerSecond = 100
    }
  }
  return ticksPerSecond
}

/** A server we did not start (Mosquitto at MOSQUITTO_URL): CPU from /proc when it runs here. */
function externalServer(name, host, port) {
  const pid = host === '127.0.0.1' || host === 'localhost' ? mosquittoPid() : null
  return {
    name,
    proc: null,
    ports: { mqtt: port },
    host,
    cpuMicros: async () => (pid === null ? NaN : procCpuMicros(pid)),
    memory: async () => ({ rss: NaN, heapUsed: NaN }),
    stop: async () => undefined
  }
}

/**
 * Forks the load generator `bench/<script>`, sends it `options`, snapshots the
 * server's CPU time at its start and end marks; resolves with its result plus
 * `server_cpu_us` (CPU time of the server in the measured period).
 */
function runLoad(script, options, server, onMark) {
  const proc = fork(path.join(__dirname, script), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const cpu = {}
  return new Promise((resolve, reject) => {
    let settled = false
    proc.on('message', (msg) => {
      if (msg.type === 'mark') {
        Promise.resolve()
          .then(async () => {
            if (server !== null) cpu[msg.phase] = await server.cpuMicros()
            if (onMark !== undefined) await onMark(msg.phase)
          })
          .then(() => proc.send({ cmd: 'marked' }, () => undefined), (err) => {
            settled = true
            proc.kill('SIGKILL')
            reject(err)
          })
      } else if (msg.type === 'result') {
        settled = true
        const result = { ...msg }
        delete result.type
        resolve({ ...result, server_cpu_us: cpu.end - cpu.start })
      } else if (msg.type === 'error') {
        settled = true
        reject(new Error(`${script}: ${msg.message}`))
      }
    })
    proc.once('exit', (code) => {
      if (!settled) reject(new Error(`${script} exited with ${code} without a result`))
    })
    proc.send({ cmd: 'run', ...options }, (err) => {
      if (err !== null && !settled) {
        settled = true
        reject(new Error(`${script}: ${err.message}`))
      }
    })
  })
}

/** The pid of a local MariaDB/MySQL server, for its CPU time; null when it cannot be found. */
function databasePid() {
  for (const name of ['mariadbd', 'mysqld']) {
    try {
      const pids = execFileSync('pidof', [name], { encoding: 'utf8' }).trim().split(/\s+/)
      if (pids.length === 1) return Number(pids[0])
    } catch {
      // not running under that name
    }
  }
  return null
}

/**
 * Waits until the servers (and a local database server, `databasePid`) are quiet: together
 * under `quietPct` % of one core over a `windowMs` window, or `maxMs` have passed. A run
 * ends with work still queued in the servers (outbox hand-offs, audit batches, InnoDB
 * purge); without this, the next scenario would be measured while that finishes.
 * Resolves with the milliseconds waited.
 */
async function settle(servers, { windowMs = 100, quietPct = 10, maxMs = 1500, dbPid = null } = {}) {
  const started = Date.now()
  const total = async () => {
    let sum = dbPid === null ? 0 : procCpuMicros(dbPid)
    for (const server of servers) sum += await server.cpuMicros()
    return sum
  }
  let before = await total()
  while (Date.now() - started < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, windowMs))
    const now = await total()
    if ((now - before) / (windowMs * 1000) * 100 < quietPct) break
    before = now
  }
  return Date.now() - started
}

module.exports = { startServer, externalServer, runLoad, settle, databasePid }
