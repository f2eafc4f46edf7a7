import type { IncomingMessage } from 'node:http'
import type { AddressInfo, Server, Socket } from 'node:net'
import type { Duplex } from 'node:stream'

/** Hands one connection (TCP socket, TLS socket or WebSocket stream) to the broker. */
export type HandleConnection = (stream: Duplex, req?: IncomingMessage) => void

/** One open MQTT port. */
export interface Listener {
  port: number
  /** Stops accepting; resolves once every connection has ended. */
  close(): Promise<void>
  /** Drops connections still open (those that never finished CONNECT). */
  destroyConnections(): void
}

/** Listens on `port` (0 = any free port) and tracks connections so they can be dropped on close. */
export function openListener(server: Server, port: number, host: string): Promise<Listener> {
  const sockets = new Set<Socket>()
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((done) => server.close(() => done())),
        destroyConnections: () => {
          for (const socket of sockets) socket.destroy()
        }
      })
    })
  })
}
