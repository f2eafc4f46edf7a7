import type { Aedes } from 'aedes'
import type { Core } from '../core/core'
import type { LoginThrottle } from './limits/login-throttle'
import type { SessionRegistry, Trust } from './session-registry'

/** What every hook and listener of one broker shares. */
export interface BrokerContext {
  core: Core
  aedes: Aedes
  sessions: SessionRegistry
  throttle: LoginThrottle
  /** Which proxies' `X-Forwarded-For` is believed for MQTT over WebSocket (TRUST_PROXY). */
  trust: Trust
  /** Aedes' persistence (in memory or Redis); only the calls the hooks need. */
  persistence: {
    removeSubscriptions(client: { id: string }, topics: string[]): Promise<void>
    /** The filters stored for a persistent session, which Aedes restores on reconnect. */
    subscriptionsByClient(client: { id: string }): Promise<Array<{ topic: string }>>
  }
}
