import { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { logger } from './logger'

/**
 * Changes that affect access, announced to every node. A node applies its own
 * changes at once (synchronously, before the call that made them returns) and
 * receives other nodes' changes through Redis pub/sub.
 */
export type Change =
  | { kind: 'key', keyId: number, userId: number }
  | { kind: 'user', userId: number }
  | { kind: 'policy' }
  | { kind: 'client-binding', clientId: string }

interface Envelope {
  node: string
  change: Change
}

export class ChangeBus extends EventEmitter<{ change: [Change] }> {
  readonly nodeId = randomUUID()
  private publisher?: Redis
  private subscriber?: Redis
  private channel = ''

  /** Joins the cluster: changes are also sent to and received from other nodes. */
  async connect(publisher: Redis, subscriber: Redis, prefix: string): Promise<void> {
    this.publisher = publisher
    this.subscriber = subscriber
    this.channel = `${prefix}changes`
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return
      try {
        const envelope = JSON.parse(message) as Envelope
        if (envelope.node !== this.nodeId) this.emit('change', envelope.change)
      } catch (err) {
        logger.warn('change bus: unreadable message', { err })
      }
    })
    await subscriber.subscribe(this.channel)
  }

  announce(change: Change): void {
    this.emit('change', change)
    if (this.publisher === undefined) return
    const envelope: Envelope = { node: this.nodeId, change }
    this.publisher.publish(this.channel, JSON.stringify(envelope)).catch((err: unknown) => {
      logger.error('change bus: could not announce a change to other nodes', { err, change })
    })
  }
}
