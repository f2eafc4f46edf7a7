import type { Client, PublishPacket } from 'aedes'
import { AppError } from '../../core/errors'
import type { BrokerContext } from '../broker-context'
import type { Session } from '../session-registry'

/** Topics a publish is diverted to once handled: no subscriber ever receives them (see authorizeForward). */
export const DIVERTED_PREFIX = '$signalhub/'
export const INGESTED_TOPIC = `${DIVERTED_PREFIX}ingested`
export const REJECTED_TOPIC = `${DIVERTED_PREFIX}rejected`

const EMPTY = Buffer.alloc(0)
const RATE_NOTICE_INTERVAL_MS = 1000

type PublishCallback = (error?: Error | null) => void

/**
 * Handler: authorizePublish(client, packet, callback).
 *
 * `strategy/<id>/<symbol>`: the payload is a signal for the core signal service, which
 * validates it, checks the strategy and the policy (the same answers, in the same order,
 * as REST), stores it (with its `seq`) and publishes the canonical JSON itself, retained,
 * QoS 1. The publisher's own packet is then diverted to `$signalhub/ingested` (empty,
 * not retained), so subscribers only ever see the canonical signal.
 *
 * Other topics: `policy.can(principal, 'publish', topic)`; an allowed packet goes on as sent.
 *
 * A refusal (policy, invalid signal, MQTT_PUBLISH_RATE exceeded) diverts the packet to
 * `$signalhub/rejected`: it is neither stored nor delivered, but acknowledged as usual
 * (PUBACK/PUBREC) and the connection stays open. It is audited and explained on
 * `users/<id>/notices` as `{"type":"publish_rejected","topic","code","detail","issues"}`.
 * Only a server-side failure (database down) calls back with an error: Aedes closes the
 * connection without PUBACK, so the client sends the QoS 1/2 message again later.
 */
export function authorizePublish(ctx: BrokerContext) {
  return (client: Client | null, packet: PublishPacket, callback: PublishCallback): void => {
    const session = client === null ? undefined : ctx.sessions.get(client)
    if (session === undefined || session.closing) {
      // a will of a revoked session or of a client from a dead node: nobody vouches for it
      divert(packet, REJECTED_TOPIC)
      callback(null)
      return
    }
    decide(ctx, session, packet).then(() => callback(null), (err: unknown) => callback(err as Error))
  }
}

async function decide(ctx: BrokerContext, session: Session, packet: PublishPacket): Promise<void> {
  const { core } = ctx
  const topic = packet.topic
  if (!session.publishes.take()) {
    core.metrics.rateLimited.inc({ door: 'mqtt' })
    const now = Date.now()
    const explain = now - session.lastRateNoticeAt >= RATE_NOTICE_INTERVAL_MS
    if (explain) session.lastRateNoticeAt = now
    refuse(ctx, session, packet, new AppError('rate_limited', `more than ${core.config.MQTT_PUBLISH_RATE} publishes per second; dropped`), { audit: explain, notice: explain })
    return
  }
  // a signal is judged by the signal service, as over REST: validation, then unknown strategy, then the policy
  if (topic.startsWith('strategy/')) {
    await ingestSignal(ctx, session, packet)
    return
  }
  if (!session.publish.allows(core.policy, session.principal, topic)) {
    const { reason } = core.policy.current.explain(session.principal, 'publish', topic)
    refuse(ctx, session, packet, new AppError('forbidden', `you may not publish to ${topic} (${reason})`))
  }
}

async function ingestSignal(ctx: BrokerContext, session: Session, packet: PublishPacket): Promise<void> {
  const { core } = ctx
  const levels = packet.topic.split('/')
  if (levels.length !== 3) {
    core.metrics.signalsRejected.inc({ source: 'mqtt', code: 'validation_failed' })
    refuse(ctx, session, packet, new AppError('validation_failed', 'a signal is published to strategy/<strategy_id>/<symbol>'))
    return
  }
  const [, strategyId, symbol] = levels
  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
  let parsed: ReturnType<typeof core.signals.parseMqttPayload>
  try {
    parsed = core.signals.parseMqttPayload(strategyId, symbol, payload)
  } catch (err) {
    if (!(err instanceof AppError)) throw err
    core.metrics.signalsRejected.inc({ source: 'mqtt', code: err.code })
    refuse(ctx, session, packet, err)
    return
  }
  try {
    await core.signals.ingest(session.principal, [parsed.item], {
      source: 'mqtt', clientId: session.client.id, ip: session.ip, idempotencyKey: parsed.idempotencyKey
    })
  } catch (err) {
    if (!(err instanceof AppError) || err.status >= 500) throw err
    // the signal service has audited this refusal already
    refuse(ctx, session, packet, err, { audit: false })
    return
  }
  divert(packet, INGESTED_TOPIC)
}

function divert(packet: PublishPacket, topic: string): void {
  packet.topic = topic
  packet.retain = false
  packet.payload = EMPTY
}

function refuse(ctx: BrokerContext, session: Session, packet: PublishPacket, err: AppError, options: { audit?: boolean, notice?: boolean } = {}): void {
  const { principal, client, ip } = session
  const topic = packet.topic
  divert(packet, REJECTED_TOPIC)
  if (options.audit !== false) {
    ctx.core.audit.record({
      action: 'mqtt.publish', result: 'denied', userId: principal.userId, actor: principal.userName,
      resource: topic, ip, clientId: client.id, detail: { code: err.code, detail: err.message }
    })
  }
  if (options.notice !== false) {
    void ctx.core.notifier.notice(principal.userId, {
      type: 'publish_rejected', detail: err.message, code: err.code, topic, issues: err.issues ?? [], client_id: client.id
    })
  }
}
