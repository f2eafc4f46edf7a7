import { createServer } from 'node:net'
import { coalesceWrites } from './coalesce-writes'
import { openListener, type HandleConnection, type Listener } from './listener'

/**
 * MQTT over TCP (MQTT_PORT). Nagle is turned off (it delays small QoS 1 acks and
 * deliveries); writes are instead gathered per event-loop turn (see coalesceWrites).
 */
export function listenTcp(handle: HandleConnection, port: number, host: string): Promise<Listener> {
  const server = createServer((socket) => {
    socket.setNoDelay(true)
    coalesceWrites(socket)
    handle(socket)
  })
  return openListener(server, port, host)
}
