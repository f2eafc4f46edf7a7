import { randomBytes } from 'node:crypto'
import { Buffer } from 'node:buffer'
import { ReplyError, type Redis } from 'ioredis'
import msgpack from 'msgpack-lite'
import type mqemitterRedis from 'mqemitter-redis'
import { logger } from '../core/logger'

type RedisEmitter = ReturnType<typeof mqemitterRedis>
type Message = Parameters<RedisEmitter['emit']>[0]
type Done = (err?: Error) => void
/**
 * mqemitter-redis keeps MQEmitter's local `emit` as `_emit`; its Redis handler calls it
 * for each message received. `closed` is MQEmitter's.
 */
type WithLocalEmit = RedisEmitter & { _emit: (message: Message, done?: Done) => void, closed: boolean }

/** `id` + `msg`, msgpack-encoded: the envelope every mqemitter-redis node reads. */
const MAP_OF_TWO = 0x82
const FIXSTR = 0xa0
const STR8 = 0xd9
const ID_KEY = Buffer.from([FIXSTR | 2, 0x69, 0x64])

/**
 * Names this node's messages in Redis. mqemitter-redis wraps each message as
 * `{ id, msg }` and drops ids it has seen; here the id starts with a tag drawn once per
 * node, so that a message coming back from Redis to the node that sent it is known from
 * its first bytes, before anything is decoded.
 */
export class Origin {
  readonly tag = randomBytes(12).toString('base64url')
  private readonly tagBytes = Buffer.from(this.tag)
  private counter = 0

  /** A new message id (`<tag>.<counter>`, unique within this node's life). */
  nextId(): string {
    this.counter++
    return `${this.tag}.${this.counter.toString(36)}`
  }

  /** The envelope for `message`, as mqemitter-redis would encode it, with this node's id. */
  encode(message: Message): Buffer {
    return msgpack.encode({ id: this.nextId(), msg: message })
  }

  /** Whether an envelope read from Redis was sent by this node (false for anything else, malformed included). */
  sentHere(envelope: Buffer): boolean {
    if (envelope.length < 5 || envelope[0] !== MAP_OF_TWO || ID_KEY.compare(envelope, 1, 4) !== 0) return false
    const header = envelope[4]!
    let at: number
    if ((header & 0xe0) === FIXSTR) at = 5
    else if (header === STR8) at = 6
    else return false
    const end = at + this.tagBytes.length
    return envelope.length > end && this.tagBytes.compare(envelope, at, end) === 0 && envelope[end] === 0x2e
  }
}

/** Most messages one script call publishes; a longer turn's messages take several calls. */
export const MAX_PUBLISH_BATCH = 500

/** Most message bytes one script call carries (a message larger than this goes alone). */
export const MAX_PUBLISH_BATCH_BYTES = 1024 * 1024

/**
 * PUBLISH for each (channel, message) pair in ARGV, in order, in one call. `pcall`: a
 * PUBLISH the server refuses does not stop the ones after it; the script returns how many
 * were refused. Sent as EVAL, not EVALSHA, so that no NOSCRIPT retry can put a batch
 * behind commands sent after it.
 */
const PUBLISH_MANY = `local refused = 0
for i = 1, #ARGV, 2 do
  local ok = redis.pcall('PUBLISH', ARGV[i], ARGV[i + 1])
  if type(ok) == 'table' and ok.err then refused = refused + 1 end
end
return refused`

/** Splits a queue of (channel, message) pairs into batches of at most MAX_PUBLISH_BATCH pairs and MAX_PUBLISH_BATCH_BYTES message bytes. */
export function batchesOf(queue: ReadonlyArray<string | Buffer>): Array<Array<string | Buffer>> {
  const batches: Array<Array<string | Buffer>> = []
  let current: Array<string | Buffer> = []
  let bytes = 0
  for (let at = 0; at < queue.length; at += 2) {
    const size = (queue[at + 1] as Buffer).length
    if (current.length > 0 && (current.length === 2 * MAX_PUBLISH_BATCH || bytes + size > MAX_PUBLISH_BATCH_BYTES)) {
      batches.push(current)
      current = []
      bytes = 0
    }
    current.push(queue[at] as string, queue[at + 1] as Buffer)
    bytes += size
  }
  if (current.length > 0) batches.push(current)
  return batches
}

export interface PublishFailures {
  /** A PUBLISH (or a whole batch) did not reach Redis: the connection failed, or the server refused it. */
  onFailure(err: Error): void
  /** The server refuses the script (an ACL without EVAL, say): from now on each message goes as its own PUBLISH. */
  onScriptRefused(err: Error): void
}

/**
 * Queues messages for Redis and sends those of one turn of the event loop together: a
 * single message as a PUBLISH, several through one Lua script that PUBLISHes each in
 * order. Every message still reaches Redis as its own PUBLISH, so every node (plain
 * mqemitter-redis included) receives exactly what it would have; only the client-side
 * work per message (a command, a promise, a buffer) is shared across the batch. If the
 * server refuses the script itself, that batch is sent again message by message, and so
 * is everything after it (once, at that moment, a message sent alone in a later turn may
 * overtake the batch being sent again).
 */
export class PublishBatcher {
  private queue: Array<string | Buffer> = []
  private scripting = true

  constructor(private readonly pub: Redis, private readonly failures: PublishFailures) {}

  push(channel: string, message: Buffer): void {
    if (this.queue.length === 0) setImmediate(() => this.flush())
    this.queue.push(channel, message)
  }

  /** Sends what is queued now (called each turn, and before the connection closes). */
  flush(): void {
    const queue = this.queue
    this.queue = []
    if (queue.length === 0) return
    if (queue.length === 2 || !this.scripting) {
      this.publishEach(queue)
      return
    }
    for (const batch of batchesOf(queue)) {
      (this.pub.eval(PUBLISH_MANY, 0, ...batch) as Promise<number>).then((refused) => {
        if (refused > 0) this.failures.onFailure(new Error(`Redis refused ${refused} of ${batch.length / 2} PUBLISH commands`))
      }, (err: Error) => {
        if (!(err instanceof ReplyError)) {
          this.failures.onFailure(err)
          return
        }
        // refused before any PUBLISH ran: nothing of this batch is out yet
        if (this.scripting) this.failures.onScriptRefused(err)
        this.scripting = false
        this.publishEach(batch)
      })
    }
  }

  private publishEach(pairs: Array<string | Buffer>): void {
    for (let at = 0; at < pairs.length; at += 2) {
      this.pub.publish(pairs[at] as string, pairs[at + 1] as Buffer).catch((err: Error) => this.failures.onFailure(err))
    }
  }
}

/**
 * mqemitter-redis sends every message through Redis and delivers it, even to
 * subscribers on this node, only when it comes back; and Aedes handles a client's next
 * packet only after `emit` calls back, so each publish waited for a Redis round trip
 * before the next one was read. Here:
 * - a message is delivered to this node's subscribers at once, and published to Redis
 *   for the other nodes without waiting for the reply, with the other messages of the
 *   same turn of the event loop (see `PublishBatcher`);
 * - when it comes back from Redis it is dropped on its first bytes (see `Origin`), before
 *   mqemitter-redis decodes it; Aedes' `brokerId` stamp is checked as well, for anything
 *   that gets through;
 * - messages from other nodes are delivered as before.
 * Redis PUBLISH is fire-and-forget towards the other nodes anyway (a node whose
 * subscription link is down misses it either way), so a failed PUBLISH is logged rather
 * than failing the publisher.
 */
export function deliverLocallyFirst(emitter: RedisEmitter, brokerId: string, conns: { pub: Redis, sub: Redis }): RedisEmitter {
  const mq = emitter as WithLocalEmit
  const origin = new Origin()
  const emitLocal = mq._emit.bind(mq)
  let lastWarning = 0
  const onRemoteFailure = (err: Error): void => {
    if (Date.now() - lastWarning < 1000) return
    lastWarning = Date.now()
    logger.warn('mqtt: could not relay a message to the other nodes through Redis', { err: err.message })
  }
  const batcher = new PublishBatcher(conns.pub, {
    onFailure: onRemoteFailure,
    onScriptRefused: (err) => logger.warn('mqtt: Redis refuses scripts; relaying each message as its own PUBLISH', { err: err.message })
  })
  mq._emit = (message: Message, done?: Done) => {
    if (message.brokerId === brokerId) {
      done?.()
      return
    }
    emitLocal(message, done)
  }
  mq.emit = (message: Message, done?: Done) => {
    if (!mq.closed) batcher.push(message.topic, origin.encode(message))
    emitLocal(message, done)
  }
  // what this turn queued goes out ahead of mqemitter-redis' QUIT
  const close = mq.close.bind(mq)
  mq.close = (done: () => void) => {
    batcher.flush()
    close(done)
  }
  dropOwnEchoes(conns.sub, origin)
  return mq
}

/** Puts a filter in front of mqemitter-redis' handlers on `sub` that drops this node's own messages. */
function dropOwnEchoes(sub: Redis, origin: Origin): void {
  const filters: Array<[event: string, envelopeAt: number]> = [['messageBuffer', 1], ['pmessageBuffer', 2]]
  for (const [event, envelopeAt] of filters) {
    for (const handler of sub.listeners(event) as Array<(...args: unknown[]) => void>) {
      sub.removeListener(event, handler)
      sub.on(event, (...args: unknown[]) => {
        const envelope = args[envelopeAt]
        if (Buffer.isBuffer(envelope) && origin.sentHere(envelope)) return
        handler(...args)
      })
    }
  }
}
