import type { Client, ConnectPacket } from 'aedes'
import { AppError } from '../../core/errors'
import { markServerAssignedId } from '../session-registry'

/** Client ids longer than this are refused: they are stored (bindings) and logged. */
export const MAX_CLIENT_ID_LENGTH = 128

// U+FFFD is what the packet parser leaves of invalid UTF-8 [MQTT-1.5.3-1]
const INVALID_UTF8 = /\uFFFD/
const CONTROL = /\p{Cc}/u

const refusals = new WeakMap<Client, AppError>()

/** The refusal preConnect noted for `client`, for `authenticate` to answer with a CONNACK. */
export function connectRefusalOf(client: Client): AppError | undefined {
  return refusals.get(client)
}

/** [MQTT-3.1.2-2]: "MQTT" goes with level 4, "MQIsdp" with level 3. */
function mismatchedProtocol(packet: ConnectPacket): boolean {
  const level = packet.protocolVersion
  return (packet.protocolId === 'MQTT' && level !== 4) || (packet.protocolId === 'MQIsdp' && level !== 3)
}

function refusalFor(packet: ConnectPacket): AppError | undefined {
  const id = packet.clientId
  if (id.length > MAX_CLIENT_ID_LENGTH) return new AppError('client_id_invalid', `client ids are at most ${MAX_CLIENT_ID_LENGTH} characters`)
  if (CONTROL.test(id)) return new AppError('client_id_invalid', 'client ids may not contain control characters')
  return undefined
}

/**
 * Handler: preConnect(client, packet, callback). Runs before Aedes looks at the CONNECT.
 * - Closes the connection, without CONNACK, for a password without a user name
 *   [MQTT-3.1.2-22] and for a client id that is not valid UTF-8 [MQTT-1.5.3-1].
 * - Notes whether the client id was empty, because Aedes replaces it with
 *   `aedes_<uuid>` before `authenticate` runs and MQTT 3.1.1 treats the two cases
 *   differently [MQTT-3.1.3-7, MQTT-3.1.3-8].
 * - Answers a protocol name and level that do not belong together with return code 1:
 *   Aedes checks only the level, so the level is marked unacceptable for it to refuse.
 * - Notes a client id that is too long or holds control characters (return code 2);
 *   the refusal itself is sent by `authenticate`, since a refusal here gets no CONNACK.
 */
export function preConnect(client: Client, packet: ConnectPacket, callback: (error: Error | null, success: boolean) => void): void {
  if (packet.password !== undefined && packet.username === undefined) {
    callback(new Error('password without user name [MQTT-3.1.2-22]'), false)
    return
  }
  if (INVALID_UTF8.test(packet.clientId)) {
    callback(new Error('client id is not valid UTF-8 [MQTT-1.5.3-1]'), false)
    return
  }
  if (mismatchedProtocol(packet)) packet.protocolVersion = 0 as ConnectPacket['protocolVersion']
  if (packet.clientId === '') markServerAssignedId(client)
  const refusal = refusalFor(packet)
  if (refusal !== undefined) refusals.set(client, refusal)
  callback(null, true)
}
