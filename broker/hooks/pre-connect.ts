import type { Client, ConnectPacket } from 'aedes'
import { markServerAssignedId } from '../session-registry'

/**
 * Handler: preConnect(client, packet, callback). Notes whether the CONNECT carried an
 * empty client id, because Aedes replaces it with `aedes_<uuid>` before `authenticate`
 * runs and MQTT 3.1.1 treats the two cases differently [MQTT-3.1.3-7, MQTT-3.1.3-8].
 * It refuses nothing itself: a refusal here would close the socket without a CONNACK.
 */
export function preConnect(client: Client, packet: ConnectPacket, callback: (error: Error | null, success: boolean) => void): void {
  if (packet.clientId === '') markServerAssignedId(client)
  callback(null, true)
}
