/** aedes-persistence-redis 12 ships no types; only what Signal Hub uses is declared. */
declare module 'aedes-persistence-redis' {
  import type { Redis, RedisOptions } from 'ioredis'

  namespace aedesPersistenceRedis {
    interface Options extends RedisOptions {
      /** A ready ioredis connection to use instead of opening one. */
      conn?: Redis
      /** Largest offline queue delivered to one session on CONNECT. Default 1000. */
      maxSessionDelivery?: number
      /** Seconds an offline QoS > 0 packet is kept; 0 keeps it forever. */
      packetTTL?: (packet: unknown) => number
    }

    /** The promise forms Aedes 1.x calls (its persistence interface). */
    interface AedesPersistenceRedis {
      removeSubscriptions(client: { id: string }, topics: string[]): Promise<void>
      /** The filters stored for a persistent session. */
      subscriptionsByClient(client: { id: string }): Promise<Array<{ topic: string, qos: number }>>
      /** Queues `packet` for each subscription's (offline) session. */
      outgoingEnqueueCombi(subs: Array<{ clientId: string }> | null | undefined, packet: unknown): Promise<void>
      /** Forgets an outgoing QoS > 0 message of `client`: on its acknowledgement, and for each queued message a clean CONNECT drops. */
      outgoingClearMessageId(client: { id: string, clean?: boolean }, packet: { cmd?: string, messageId?: number }): Promise<unknown>
    }
  }

  function aedesPersistenceRedis(options?: aedesPersistenceRedis.Options): aedesPersistenceRedis.AedesPersistenceRedis
  export = aedesPersistenceRedis
}
