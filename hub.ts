import { createServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { createHttpApp, type HttpApp } from './bridge/app'
import { readPem } from './broker/listeners/tls'
import { createMqttBroker, type MqttBroker } from './broker/mqtt-broker'
import type { Config } from './core/config'
import { createCore, type Core, type CoreOptions } from './core/core'
import { startScheduler } from './core/jobs/scheduler'
import { logger } from './core/logger'
import { startOutbox } from './core/signals/outbox'

/** A running Signal Hub node: the core, the MQTT broker and the HTTP server around them. */
export interface Hub {
  core: Core
  broker: MqttBroker
  http: Server
  ports: { http: number, mqtt: number, mqtts?: number }
  /** Stops accepting, finishes in-flight work, flushes the audit trail, disconnects clients. */
  stop(): Promise<void>
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

/** HTTP_PORT's server: HTTPS (and WSS at /mqtt) when HTTPS_CERT and HTTPS_KEY are set, plain HTTP otherwise. */
function createHttpServer(config: Config, bridge: HttpApp): Server {
  if (config.HTTPS_CERT === undefined || config.HTTPS_KEY === undefined) return createServer(bridge.classes, bridge.listener)
  return createHttpsServer({ ...bridge.classes, cert: readPem(config.HTTPS_CERT), key: readPem(config.HTTPS_KEY), minVersion: 'TLSv1.2' }, bridge.listener)
}

/** How long a stopping node waits for HTTP requests it already accepted. */
const IN_FLIGHT_WAIT_MS = 5000

/** Counts HTTP requests being answered; `drained` resolves when none are left (or after `ms`). */
function trackRequests(server: Server): { drained(ms: number): Promise<void> } {
  let active = 0
  let waiters: Array<() => void> = []
  server.on('request', (_req, res) => {
    active++
    res.once('close', () => {
      active--
      if (active === 0) {
        for (const wake of waiters) wake()
        waiters = []
      }
    })
  })
  return {
    drained: (ms) => new Promise<void>((resolve) => {
      if (active === 0) return resolve()
      const timer = setTimeout(resolve, ms)
      waiters.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }
}

export async function startHub(config: Config, options: CoreOptions = {}): Promise<Hub> {
  const core = await createCore(config, options)
  const broker = await createMqttBroker(core)
  core.signals.setSink(broker.sink)
  core.notifier.setSink(broker.sink)
  const bridge = createHttpApp(core)
  const http = createHttpServer(config, bridge)
  broker.attachWebSocket(http)
  const mqttPorts = await broker.listen()
  const httpPort = await listen(http, config.HTTP_PORT, config.HOST)
  const ports = { http: httpPort, ...mqttPorts }
  const stopJobs = config.JOBS_ENABLED ? startScheduler(core) : async () => undefined
  const outbox = startOutbox(core.signals)
  logger.info('signal hub listening', { host: config.HOST, ...ports, https: config.HTTPS_CERT !== undefined, websocket: `/mqtt on ${httpPort}`, redis: config.REDIS_URL !== undefined })

  const inFlight = trackRequests(http)
  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await outbox.stop()
      await stopJobs()
      const closed = new Promise<void>((resolve) => http.close(() => resolve()))
      bridge.close()
      http.closeIdleConnections()
      // requests already accepted finish first, so the signals they acknowledge reach the broker
      await inFlight.drained(IN_FLIGHT_WAIT_MS)
      await broker.close()
      const deadline = setTimeout(() => http.closeAllConnections(), 2000)
      await closed
      clearTimeout(deadline)
      await core.close()
    })()
    return stopping
  }
  return { core, broker, http, ports, stop }
}
