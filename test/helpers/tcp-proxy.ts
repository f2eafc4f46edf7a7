import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'

/** How a cut link behaves for new connections: refused at once, or accepted and never answered. */
export type CutMode = 'refuse' | 'hang'

/**
 * A TCP proxy on loopback between a node and MariaDB or Redis, so a test can take the
 * dependency away from one node without stopping the shared server. `cut` destroys every
 * open connection (both sides, so the server rolls back what was in flight) and then
 * refuses or blackholes new ones; `restore` forwards again.
 */
export class TcpProxy {
  private readonly server: Server
  private readonly links = new Set<Socket>()
  private mode: CutMode | 'open' = 'open'
  /** Called with each chunk a client sends, before it is forwarded; `true` cuts the link first. */
  cutWhen?: (chunk: Buffer) => boolean
  port = 0

  private constructor(private readonly targetHost: string, private readonly targetPort: number) {
    this.server = createServer((client) => this.accept(client))
  }

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetHost, targetPort)
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve))
    proxy.port = (proxy.server.address() as AddressInfo).port
    return proxy
  }

  /** `url` with its host and port replaced by this proxy's. */
  route(url: string): string {
    const routed = new URL(url)
    routed.hostname = '127.0.0.1'
    routed.port = String(this.port)
    return routed.toString()
  }

  private accept(client: Socket): void {
    client.on('error', () => undefined)
    if (this.mode === 'refuse') {
      client.resetAndDestroy()
      return
    }
    this.links.add(client)
    client.on('close', () => this.links.delete(client))
    if (this.mode === 'hang') return
    const upstream = connect(this.targetPort, this.targetHost)
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
    this.links.add(upstream)
    upstream.on('close', () => this.links.delete(upstream))
    upstream.on('data', (chunk) => client.write(chunk))
    client.on('data', (chunk) => {
      if (this.cutWhen?.(chunk) === true) {
        this.cutWhen = undefined
        this.cut('refuse')
        return
      }
      upstream.write(chunk)
    })
  }

  cut(mode: CutMode): void {
    this.mode = mode
    for (const socket of this.links) socket.destroy()
    this.links.clear()
  }

  restore(): void {
    this.mode = 'open'
    for (const socket of this.links) socket.destroy()
    this.links.clear()
  }

  async close(): Promise<void> {
    this.cut('refuse')
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
