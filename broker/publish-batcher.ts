import { Buffer } from 'node:buffer'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ReplyError, type Redis } from 'ioredis'

/** Most messages one script call publishes; a longer turn's messages take several calls. */
export const MAX_PUBLISH_BATCH = 500

/** Most message bytes one script call carries (a message larger than this goes alone). */
export const MAX_PUBLISH_BATCH_BYTES = 1024 * 1024

/** Beside this file in the sources and in `dist/` (the build copies it). */
const PUBLISH_MANY = readFileSync(join(__dirname, 'publish-many.lua'), 'utf8')

/** Splits frames into batches of at most MAX_PUBLISH_BATCH frames and MAX_PUBLISH_BATCH_BYTES bytes, in order. */
export function batchesOf(frames: readonly Buffer[]): Buffer[][] {
  const batches: Buffer[][] = []
  let current: Buffer[] = []
  let bytes = 0
  for (const frame of frames) {
    if (current.length > 0 && (current.length === MAX_PUBLISH_BATCH || bytes + frame.length > MAX_PUBLISH_BATCH_BYTES)) {
      batches.push(current)
      current = []
      bytes = 0
    }
    current.push(frame)
    bytes += frame.length
  }
  if (current.length > 0) batches.push(current)
  return batches
}

export interface PublishFailures {
  /** Frames did not reach Redis: the connection failed, or the server refused a PUBLISH. */
  onFailure(err: Error): void
  /** The server refuses the script (an ACL without EVAL, say): from now on each frame goes as its own PUBLISH. */
  onScriptRefused(err: Error): void
}

/**
 * Publishes frames on one channel, those of one turn of the event loop together: a single
 * frame as a PUBLISH, several through one script call (`publish-many.lua`) that PUBLISHes
 * each in order, so that the client-side work per command is shared across the batch.
 * Sent as EVAL, not EVALSHA, so that no NOSCRIPT retry can put a batch behind commands
 * sent after it. If the server refuses the script, that batch is sent again frame by
 * frame, and so is everything after it; until every script call already sent has been
 * answered, later frames wait, so frames reach Redis in the order they were pushed.
 */
export class PublishBatcher {
  private queue: Buffer[] = []
  private scripting = true
  private scriptsInFlight = 0
  /** Frames that wait for the script calls in flight (only once scripts are refused). */
  private held: Buffer[] = []
  private idle: Array<() => void> = []

  constructor(private readonly pub: Redis, private readonly channel: string, private readonly failures: PublishFailures) {}

  push(frame: Buffer): void {
    if (this.queue.length === 0) setImmediate(() => this.flush())
    this.queue.push(frame)
  }

  /** Sends what is queued now (called each turn, and before the connection closes). */
  flush(): void {
    const frames = this.queue
    this.queue = []
    if (frames.length === 0) return
    if (!this.scripting) {
      if (this.scriptsInFlight > 0) this.held.push(...frames)
      else this.publishEach(frames)
      return
    }
    if (frames.length === 1 && this.scriptsInFlight === 0) {
      this.publishEach(frames)
      return
    }
    for (const batch of batchesOf(frames)) this.publishMany(batch)
  }

  /** Resolves once every script call sent has been answered and nothing is held back. */
  settled(): Promise<void> {
    if (this.scriptsInFlight === 0) return Promise.resolve()
    return new Promise((resolve) => this.idle.push(resolve))
  }

  private publishMany(batch: Buffer[]): void {
    this.scriptsInFlight++
    ;(this.pub.eval(PUBLISH_MANY, 0, this.channel, ...batch) as Promise<number>).then((refused) => {
      if (refused > 0) this.failures.onFailure(new Error(`Redis refused ${refused} of ${batch.length} PUBLISH commands`))
    }, (err: Error) => {
      if (!(err instanceof ReplyError)) {
        this.failures.onFailure(err)
        return
      }
      // refused before any PUBLISH ran: nothing of this batch is out yet
      if (this.scripting) this.failures.onScriptRefused(err)
      this.scripting = false
      this.publishEach(batch)
    }).finally(() => {
      this.scriptsInFlight--
      if (this.scriptsInFlight > 0) return
      const held = this.held
      this.held = []
      if (held.length > 0) this.publishEach(held)
      for (const resolve of this.idle.splice(0)) resolve()
    })
  }

  private publishEach(frames: Buffer[]): void {
    for (const frame of frames) {
      this.pub.publish(this.channel, frame).catch((err: Error) => this.failures.onFailure(err))
    }
  }
}
