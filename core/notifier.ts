import type { ErrorCode, FieldIssue } from './errors'
import { logger } from './logger'
import type { MessageSink } from './signals/signal-service'

/**
 * Every message on `users/<id>/notices` has one shape: what happened (`type`), the same
 * in words (`detail`), when (`at`, added on sending), and the facts of its kind. MQTT
 * 3.1.1 has no reason codes, so refusals over MQTT are explained here, with the same
 * `code` REST would answer.
 */
export type Notice =
  | { type: 'publish_rejected', detail: string, code: ErrorCode, topic: string, issues: FieldIssue[], client_id: string }
  | { type: 'subscription_removed', detail: string, topics: string[], client_id: string }
  | { type: 'key_expiring', detail: string, key_id: number, prefix: string, expires_at: string }
  | { type: 'key_revoked', detail: string, key_id: number, prefix: string }

export function noticeTopic(userId: number): string {
  return `users/${userId}/notices`
}

export function reportTopic(userId: number): string {
  return `users/${userId}/reports`
}

/**
 * Server-originated messages to one user, QoS 1, not retained: notices on
 * `users/<id>/notices` and reports on `users/<id>/reports`. Only the user itself and
 * admins may subscribe to those topics (core policy), so nothing else needs authorising
 * here. Sending never fails the caller: a failure is logged and reported as `false`.
 */
export class Notifier {
  private sink?: MessageSink

  constructor(private readonly now: () => Date) {}

  setSink(sink: MessageSink): void {
    this.sink = sink
  }

  notice(userId: number, notice: Notice): Promise<boolean> {
    return this.send(noticeTopic(userId), { ...notice, at: this.now().toISOString() }, notice.type)
  }

  report(userId: number, report: Record<string, unknown>): Promise<boolean> {
    return this.send(reportTopic(userId), { type: 'report', ...report, at: this.now().toISOString() }, 'report')
  }

  private async send(topic: string, body: Record<string, unknown>, type: string): Promise<boolean> {
    if (this.sink === undefined) return false
    try {
      await this.sink.publish(topic, Buffer.from(JSON.stringify(body)), { qos: 1, retain: false })
      return true
    } catch (err) {
      logger.warn('notifier: could not publish', { topic, type, err: (err as Error).message })
      return false
    }
  }
}
