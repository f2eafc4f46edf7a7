import type { Client } from 'aedes'

interface PacketParser {
  packet: { cmd?: string, length: number }
  _parseLength(): boolean
  _emitError(err: Error): void
}

export class PacketTooLargeError extends Error {
  constructor(readonly cmd: string, readonly length: number, readonly limit: number) {
    super(`${cmd} packet of ${length} bytes exceeds MQTT_MAX_PACKET_BYTES (${limit})`)
    this.name = 'PacketTooLargeError'
  }
}

/**
 * Refuses any packet whose remaining length exceeds `maxBytes` as soon as its fixed
 * header is read, before the body is buffered. Aedes has no option for this, so the
 * client's mqtt-packet parser is wrapped. The connection is then closed, as MQTT 3.1.1
 * has no reason code for it; the error reaches 'clientError' / 'connectionError'.
 */
export function limitPacketSize(client: Client, maxBytes: number): void {
  const parser = (client as unknown as { _parser: PacketParser })._parser
  const parseLength = parser._parseLength.bind(parser)
  parser._parseLength = function limitedParseLength(): boolean {
    if (!parseLength()) return false
    if (parser.packet.length > maxBytes) {
      parser._emitError(new PacketTooLargeError(parser.packet.cmd ?? 'unknown', parser.packet.length, maxBytes))
      return false
    }
    return true
  }
}
