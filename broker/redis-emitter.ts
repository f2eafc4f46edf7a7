import type { Buffer } from 'node:buffer'
import { Redis } from 'ioredis'
import mqemitter, { type MQEmitter } from 'mqemitter'
import { logger } from '../core/logger'
import { decodeFrame, FanoutFrames, type FanoutMessage } from './fanout-frame'
import { PublishBatcher } from './publish-batcher'

type Listener = (message: FanoutMessage, done: () => void) => void

export interface RedisEmitterOptions {
  /** The Redis server every node of the deployment uses. */
  url: string
  /** The one pub/sub channel of the deployment (`<REDIS_PREFIX>mqtt:fanout`). */
  channel: string
}

/** Longest wait on close, for Redis to answer what was sent and then QUIT, before the connections are dropped. */
const CLOSE_TIMEOUT_MS = 1000
/** At most one warning per this many ms about messages that could not be relayed or read. */
const WARN_INTERVAL_MS = 1000

/**
 * The message emitter (`mq`) of a Signal Hub node in a cluster: what Aedes calls for every
 * publish and subscription (`on`, `removeListener`, `emit`, `close`), with MQEmitter
 * (`mqemitter`) matching topics and delivering on this node, and one Redis channel
 * carrying every message to the other nodes.
 *
 * - `emit` delivers to this node's subscribers at once; the message goes to Redis without
 *   the publisher waiting for it, with the others of the same turn of the event loop
 *   (`PublishBatcher`). Redis PUBLISH is fire-and-forget towards the other nodes anyway (a
 *   node whose link is down misses it either way), so a failure is logged, not returned.
 * - Every node hears the channel; a node's own messages coming back are dropped on their
 *   first bytes (`FanoutFrames.sentHere`), the others are delivered here.
 * - The channel lives under REDIS_PREFIX, so deployments sharing a Redis server do not
 *   hear each other.
 * - It owns its two connections; their errors are logged (nothing is emitted).
 */
export class RedisEmitter {
  private readonly local: MQEmitter
  private readonly frames = new FanoutFrames()
  private readonly pub: Redis
  private readonly sub: Redis
  private readonly relay: PublishBatcher
  /** Settles (either way) with the first attempt to subscribe to the channel. */
  private readonly firstSubscription: Promise<void>
  private subscribed = false
  private subscribing = false
  private closed = false
  private lastWarning = 0

  constructor(private readonly options: RedisEmitterOptions) {
    // No cap on deliveries in progress (MQEmitter's default, as mqemitter-redis had): Aedes'
    // own emitter caps them at 100, which halved QoS 1 throughput through Redis in the bench.
    // [MQTT-4.7.1-3] '+' matches an empty level.
    this.local = mqemitter({ matchEmptyLevels: true })
    this.pub = link(options.url, 'signalhub-mqtt-pub')
    // No ready check on the subscription link: ioredis checks with INFO once connected, and
    // a SUBSCRIBE written in the moment between puts the link in subscriber mode, where INFO
    // is refused, so the link would never become ready.
    this.sub = link(options.url, 'signalhub-mqtt-sub', { enableReadyCheck: false })
    this.relay = new PublishBatcher(this.pub, options.channel, {
      onFailure: (err) => this.warn('mqtt: could not relay a message to the other nodes through Redis', err),
      onScriptRefused: (err) => logger.warn('mqtt: Redis refuses scripts; relaying each message as its own PUBLISH', { err: err.message })
    })
    this.sub.on('messageBuffer', (_channel: Buffer, frame: Buffer) => this.receive(frame))
    this.firstSubscription = this.subscribe()
    // ioredis subscribes again by itself after a reconnect once a SUBSCRIBE has succeeded;
    // until one has, each new connection tries
    this.sub.on('ready', () => {
      if (!this.subscribed && !this.subscribing && !this.closed) void this.subscribe()
    })
  }

  /** Subscribes `listener` to `topic` (MQTT wildcards); `done` once the channel to the other nodes is heard as well. */
  on(topic: string, listener: Listener, done?: () => void): this {
    this.local.on(topic, listener)
    if (done !== undefined) void this.firstSubscription.then(done)
    return this
  }

  removeListener(topic: string, listener: Listener, done?: () => void): this {
    this.local.removeListener(topic, listener, done)
    return this
  }

  /** Delivers `message` here, and relays it to the other nodes; `done` once delivered here. */
  emit(message: FanoutMessage, done?: (err?: Error) => void): void {
    if (!this.closed) {
      try {
        this.relay.push(this.frames.encode(message))
      } catch (err) {
        this.warn('mqtt: could not relay a message to the other nodes through Redis', err as Error)
      }
    }
    this.local.emit(message, done)
  }

  /** Sends what is still queued for Redis, stops delivering, and closes both connections. */
  close(done: () => void): void {
    if (this.closed) {
      setImmediate(done)
      return
    }
    this.closed = true
    this.relay.flush()
    this.local.close(() => {
      void within(this.relay.settled(), CLOSE_TIMEOUT_MS)
        .then(() => Promise.all([quit(this.pub), quit(this.sub)]))
        .then(() => done())
    })
  }

  private async subscribe(): Promise<void> {
    this.subscribing = true
    try {
      await this.sub.subscribe(this.options.channel)
      this.subscribed = true
    } catch (err) {
      logger.warn('mqtt: cannot hear the other nodes through Redis yet', { err: (err as Error).message })
    } finally {
      this.subscribing = false
    }
  }

  private receive(frame: Buffer): void {
    if (this.closed || this.frames.sentHere(frame)) return
    const message = decodeFrame(frame)
    if (message === undefined) {
      this.warn('mqtt: dropped an unreadable message from the Redis fan-out channel', new Error(`${frame.length} bytes`))
      return
    }
    this.local.emit(message)
  }

  private warn(what: string, err: Error): void {
    const now = Date.now()
    if (now - this.lastWarning < WARN_INTERVAL_MS) return
    this.lastWarning = now
    logger.warn(what, { err: err.message })
  }
}

function link(url: string, name: string, options: { enableReadyCheck?: boolean } = {}): Redis {
  const conn = new Redis(url, { connectionName: name, maxRetriesPerRequest: 2, ...options })
  conn.on('error', (err: Error) => logger.warn('redis error', { connection: name, err: err.message }))
  return conn
}

/** Resolves when `promise` settles, or after `ms`, whichever comes first. */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, ms) })
  await Promise.race([promise.then(() => undefined, () => undefined), timeout])
  clearTimeout(timer)
}

/** QUIT (answered after every command sent before it), or a disconnect if Redis does not answer in time. */
async function quit(conn: Redis): Promise<void> {
  await within(conn.quit(), CLOSE_TIMEOUT_MS)
  conn.disconnect()
}
