/** aedes-persistence-redis 12 ships no types; only what Signal Hub uses is declared. */
declare module 'aedes-persistence-redis' {
  import type { Redis, RedisOptions } from 'ioredis'

  interface AedesPersistenceRedisOptions extends RedisOptions {
    /** A ready ioredis connection to use instead of opening one. */
    conn?: Redis
    /** Largest offline queue delivered to one session on CONNECT. Default 1000. */
    maxSessionDelivery?: number
    /** Seconds an offline QoS > 0 packet is kept; 0 keeps it forever. */
    packetTTL?: (packet: unknown) => number
  }

  interface AedesPersistenceRedis {
    setup(broker: unknown): Promise<void>
    addSubscriptions(client: { id: string }, subs: Array<{ topic: string, qos: number }>): Promise<void>
    removeSubscriptions(client: { id: string }, topics: string[]): Promise<void>
    outgoingEnqueueCombi(subs: Array<{ clientId: string }>, packet: unknown): Promise<void>
    /** Forgets an outgoing QoS > 0 message of `client`: on its acknowledgement, and for each queued message a clean CONNECT drops. */
    outgoingClearMessageId(client: { id: string, clean?: boolean }, packet: { cmd?: string, messageId?: number }): Promise<unknown>
    destroy(): Promise<void>
  }

  function aedesPersistenceRedis(options?: AedesPersistenceRedisOptions): AedesPersistenceRedis
  export = aedesPersistenceRedis
}
