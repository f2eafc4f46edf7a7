import { readFileSync } from 'node:fs'
import { createServer } from 'node:tls'
import { coalesceWrites } from './coalesce-writes'
import { openListener, type HandleConnection, type Listener } from './listener'

/** MQTT_TLS_CERT / MQTT_TLS_KEY hold either PEM text or the path of a PEM file. */
export function readPem(value: string): string {
  return value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8')
}

/** MQTT over TLS (MQTT_TLS_PORT), opened only when a certificate and key are configured. */
export function listenTls(handle: HandleConnection, options: { cert: string, key: string }, port: number, host: string): Promise<Listener> {
  const server = createServer({ cert: readPem(options.cert), key: readPem(options.key), minVersion: 'TLSv1.2' }, (socket) => {
    socket.setNoDelay(true)
    coalesceWrites(socket)
    handle(socket)
  })
  return openListener(server, port, host)
}
