import type { IncomingMessage, Server } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { createWebSocketStream, WebSocketServer } from 'ws'
import type { HandleConnection } from './listener'

export const WEBSOCKET_PATH = '/mqtt'

/** The WebSocket side of the HTTP server; `close` ends its connections. */
export interface WebSocketListener {
  close(): Promise<void>
}

/**
 * MQTT over WebSocket on the HTTP server at `/mqtt` (subprotocol `mqtt`), for browsers.
 * An upgrade request for any other path is refused by closing its socket.
 * A message longer than `maxMessageBytes` closes the connection (1009) as soon as its
 * frame header announces it, before it is buffered.
 */
export function attachWebSocket(server: Server, handle: HandleConnection, maxMessageBytes: number): WebSocketListener {
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes })
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path !== WEBSOCKET_PATH) {
      socket.destroy()
      return
    }
    ;(socket as Socket).setNoDelay?.(true)
    wss.handleUpgrade(req, socket, head, (ws) => {
      handle(createWebSocketStream(ws), req)
    })
  })
  return {
    close: () => new Promise<void>((resolve) => {
      for (const ws of wss.clients) ws.terminate()
      wss.close(() => resolve())
    })
  }
}
