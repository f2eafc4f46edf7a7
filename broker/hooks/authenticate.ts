import type { AuthenticateError, Client } from 'aedes'
import { publicPrefixOf } from '../../core/auth/auth-throttle'
import { AppError, ERROR_CATALOGUE, toAppError } from '../../core/errors'
import type { Principal } from '../../core/principal'
import type { BrokerContext } from '../broker-context'
import { DecisionCache } from '../decision-cache'
import { TokenBucket } from '../limits/token-bucket'
import { hasServerAssignedId, remoteAddressOf } from '../session-registry'
import { connectRefusalOf } from './pre-connect'

type AuthenticateCallback = (error: AuthenticateError | null, success: boolean | null) => void

/**
 * Handler: authenticate(client, username, password, callback). The password is an API
 * key, checked by the same `core.keys.verify` as REST; the username is informational.
 * In order: an unacceptable client id noted by preConnect (2), an empty client id with clean session 0 (2, [MQTT-3.1.3-8]), the key behind
 * the core's key-guessing throttle (3 while the address or the key's prefix is locked
 * out, 4 missing/wrong/revoked/expired, 5 disabled user), the client id's owner (2),
 * the user's connection limit (5). Every attempt is
 * audited as `mqtt.connect` with address and client id, never the key.
 */
export function authenticate(ctx: BrokerContext) {
  return (client: Client, username: Readonly<string | undefined>, password: Readonly<Buffer | undefined>, callback: AuthenticateCallback): void => {
    login(ctx, client, username, password).then(() => callback(null, true), (err: unknown) => callback(toConnackError(err), false))
  }
}

function toConnackError(err: unknown): AuthenticateError {
  const appError = toAppError(err)
  const refusal = new Error(appError.message) as AuthenticateError
  refusal.returnCode = (ERROR_CATALOGUE[appError.code] as { connack?: number }).connack ?? 5
  return refusal
}

async function login(ctx: BrokerContext, client: Client, username: string | undefined, password: Buffer | undefined): Promise<void> {
  const { core } = ctx
  const ip = remoteAddressOf(client, ctx.trust)
  const serverAssigned = hasServerAssignedId(client)
  let principal: Principal | undefined
  try {
    const refusal = connectRefusalOf(client)
    if (refusal !== undefined) throw refusal
    if (serverAssigned && !client.clean) throw new AppError('client_id_required')
    principal = { ...await ctx.throttle.verify(ip, password), clientId: client.id }
    if (!serverAssigned && !await ctx.core.clientBindings.claim(client.id, principal.userId)) {
      throw new AppError('client_id_taken', `client id ${client.id} belongs to another user`)
    }
    // check and add without an await in between, so concurrent CONNECTs cannot both pass
    const limit = core.config.MQTT_MAX_CONNECTIONS_PER_USER
    if (ctx.sessions.countForUser(principal.userId, client.id) >= limit) {
      throw new AppError('too_many_connections', `at most ${limit} connections per user`)
    }
    if (client.closed) throw new AppError('bad_request', 'connection closed during login')
    const rate = core.config.MQTT_PUBLISH_RATE
    ctx.sessions.add({
      client, principal, ip,
      forward: new DecisionCache('subscribe'),
      publish: new DecisionCache('publish'),
      publishes: new TokenBucket(rate, rate),
      lastRateNoticeAt: 0,
      closing: false
    })
    core.audit.record({
      action: 'mqtt.connect', result: 'ok', userId: principal.userId, actor: principal.userName, ip, clientId: client.id,
      detail: { username: username ?? null, clean: client.clean, key_prefix: principal.keyPrefix }
    })
  } catch (err) {
    const appError = toAppError(err)
    core.metrics.authFailures.inc({ door: 'mqtt', code: appError.code })
    core.audit.record({
      action: 'mqtt.connect', result: appError.status < 500 ? 'denied' : 'failed',
      userId: principal?.userId ?? null, actor: principal?.userName ?? null, ip, clientId: client.id,
      detail: { code: appError.code, detail: appError.message, username: username ?? null, key_prefix: principal?.keyPrefix ?? publicPrefixOf(password?.toString('utf8') ?? null) }
    })
    throw appError
  }
}
