import type { Aedes } from 'aedes'
import { logger } from '../core/logger'

/** A message to a user on `users/<id>/notices`: MQTT 3.1.1 has no reason codes, so refusals are explained here. */
export type Notice =
  | { type: 'publish_rejected', topic: string, code: string, detail: string, issues: unknown[], client_id: string }
  | { type: 'subscription_removed', topics: string[], client_id: string }

export function noticeTopic(userId: number): string {
  return `users/${userId}/notices`
}

/** Publishes `notice` (QoS 1, not retained) from the server; it never fails the caller. */
export function publishNotice(aedes: Aedes, userId: number, notice: Notice): void {
  const payload = Buffer.from(JSON.stringify({ ...notice, at: new Date().toISOString() }))
  aedes.publish({ cmd: 'publish', topic: noticeTopic(userId), payload, qos: 1, retain: false, dup: false }, (err?: Error) => {
    if (err) logger.warn('mqtt: could not publish a notice', { userId, type: notice.type, err: err.message })
  })
}
