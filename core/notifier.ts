import { logger } from './logger'
import type { MessageSink } from './signals/signal-service'

export type UserChannel = 'notices' | 'reports'

/**
 * Server-originated messages to one user on `users/<id>/notices` or `users/<id>/reports`
 * (QoS 1, not retained). Only the user itself and admins may subscribe to those topics
 * (core policy), so nothing else needs authorising here.
 */
export class Notifier {
  private sink?: MessageSink

  setSink(sink: MessageSink): void {
    this.sink = sink
  }

  async notify(userId: number, channel: UserChannel, body: Record<string, unknown>): Promise<boolean> {
    if (this.sink === undefined) return false
    const payload = Buffer.from(JSON.stringify({ ...body, at: new Date().toISOString() }))
    try {
      await this.sink.publish(`users/${userId}/${channel}`, payload, { qos: 1, retain: false })
      return true
    } catch (err) {
      logger.warn('notifier: could not publish', { userId, channel, err: (err as Error).message })
      return false
    }
  }
}
