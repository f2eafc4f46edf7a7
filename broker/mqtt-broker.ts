import type { Server } from 'node:http'
import { Aedes } from 'aedes'
import type { Core } from '../core/core'
import { logger } from '../core/logger'
import type { MessageSink } from '../core/signals/signal-service'
import type { BrokerContext } from './broker-context'
import { authenticate } from './hooks/authenticate'
import { authorizeForward } from './hooks/authorize-forward'
import { authorizePublish } from './hooks/authorize-publish'
import { authorizeSubscribe } from './hooks/authorize-subscribe'
import { preConnect } from './hooks/pre-connect'
import { LoginThrottle } from './limits/login-throttle'
import { limitPacketSize, MAX_FIXED_HEADER_BYTES } from './limits/packet-size'
import type { HandleConnection, Listener } from './listeners/listener'
import { listenTcp } from './listeners/tcp'
import { listenTls } from './listeners/tls'
import { attachWebSocket, type WebSocketListener } from './listeners/websocket'
import { createBrokerStorage } from './persistence'
import { relayRemoteSignals } from './remote-signals'
import { watchRevocations } from './revocation'
import { trackSessionEvents } from './session-events'
import { compileTrust, SessionRegistry } from './session-registry'

/** The embedded MQTT broker: one Aedes instance behind TCP, TLS and WebSocket listeners. */
export interface MqttBroker {
  aedes: Aedes
  /** Where the signal service publishes stored signals (server-side: no authorizePublish). */
  sink: MessageSink
  /** Opens MQTT_PORT and, with a certificate and key, MQTT_TLS_PORT; resolves with the ports chosen. */
  listen(): Promise<{ mqtt: number, mqtts?: number }>
  /** Serves MQTT over WebSocket at `/mqtt` on the HTTP server. */
  attachWebSocket(server: Server): void
  /** Stops the listeners, disconnects every client, closes Aedes and its Redis connections. */
  close(): Promise<void>
}

/** Seconds of silence before a client that never sent CONNECT is dropped. */
const CONNECT_TIMEOUT_MS = 10_000
/** A subscriber whose socket stays full this long is disconnected, so it cannot stall delivery to others. */
const DRAIN_TIMEOUT_MS = 30_000

export async function createMqttBroker(core: Core): Promise<MqttBroker> {
  const { config } = core
  const storage = createBrokerStorage(config)
  const aedes = await Aedes.createBroker({
    ...storage.options,
    maxTopicLevels: config.MQTT_MAX_TOPIC_LEVELS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    drainTimeout: DRAIN_TIMEOUT_MS,
    preConnect
  })
  const ctx: BrokerContext = {
    core,
    aedes,
    sessions: new SessionRegistry(),
    throttle: LoginThrottle.create(core),
    trust: compileTrust(config.TRUST_PROXY),
    persistence: storage.persistence
  }
  aedes.authenticate = authenticate(ctx)
  aedes.authorizePublish = authorizePublish(ctx)
  aedes.authorizeSubscribe = authorizeSubscribe(ctx)
  aedes.authorizeForward = authorizeForward(ctx)
  trackSessionEvents(ctx)
  const stopWatching = watchRevocations(ctx)
  const stopRelay = core.config.REDIS_URL === undefined ? async () => undefined : relayRemoteSignals(ctx)

  const handle: HandleConnection = (stream, req) => {
    aedes.handle(stream, req)
    limitPacketSize(stream, config.MQTT_MAX_PACKET_BYTES)
  }
  const listeners: Listener[] = []
  const webSockets: WebSocketListener[] = []

  const sink: MessageSink = {
    publish: (topic, payload, { qos, retain }) => new Promise<void>((resolve, reject) => {
      aedes.publish({ cmd: 'publish', topic, payload, qos, retain, dup: false }, (err?: Error) => err ? reject(err) : resolve())
    })
  }

  let closing: Promise<void> | undefined
  return {
    aedes,
    sink,
    async listen() {
      const tcp = await listenTcp(handle, config.MQTT_PORT, config.HOST)
      listeners.push(tcp)
      let mqtts: number | undefined
      if (config.MQTT_TLS_CERT !== undefined && config.MQTT_TLS_KEY !== undefined) {
        const tls = await listenTls(handle, { cert: config.MQTT_TLS_CERT, key: config.MQTT_TLS_KEY }, config.MQTT_TLS_PORT, config.HOST)
        listeners.push(tls)
        mqtts = tls.port
      }
      logger.info('mqtt listening', { host: config.HOST, mqtt: tcp.port, mqtts, persistence: storage.kind })
      return mqtts === undefined ? { mqtt: tcp.port } : { mqtt: tcp.port, mqtts }
    },
    attachWebSocket(server) {
      webSockets.push(attachWebSocket(server, handle, config.MQTT_MAX_PACKET_BYTES + MAX_FIXED_HEADER_BYTES))
    },
    close() {
      closing ??= (async () => {
        stopWatching()
        await stopRelay()
        const stopped = listeners.map((l) => l.close())
        await storage.settle()
        await new Promise<void>((resolve) => aedes.close(() => resolve()))
        for (const listener of listeners) listener.destroyConnections()
        await Promise.all([...stopped, ...webSockets.map((ws) => ws.close())])
        await storage.close()
      })()
      return closing
    }
  }
}
