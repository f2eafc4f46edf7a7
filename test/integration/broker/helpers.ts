import type { Env } from '../../../core/config'
import type { ScratchDatabase } from '../../helpers/database'
import { uniqueId, type TestUser } from '../../helpers/fixtures'
import { startTestHub, type TestHub } from '../../helpers/hub'
import { redisUrl } from '../../helpers/services'

/**
 * The names the broker suites not yet moved to test/helpers import. New tests use
 * test/helpers (hub.ts, mqtt-clients.ts, fixtures.ts, services.ts, wait.ts) directly.
 */
export { closed, Inbox, publish, rawConnectReturnCode, signalBody, subscribe, TestClients, type Received } from '../../helpers/mqtt-clients'
export { uniqueId } from '../../helpers/fixtures'
export { waitFor as eventually } from '../../helpers/wait'

/** REDIS_URL on database `db` (5 unless given); undefined without Redis. */
export function brokerRedisUrl(db = 5): string | undefined {
  return redisUrl(db)
}

/** A full test hub whose `user` makes each name unique, as the broker suites expect. */
export type BrokerNode = TestHub

export async function startBrokerNode(env: Env = {}, scratch?: ScratchDatabase): Promise<BrokerNode> {
  const hub = await startTestHub({ REDIS_URL: brokerRedisUrl(), ...env }, scratch)
  const user = hub.user
  return { ...hub, user: (name: string, role?: string): Promise<TestUser> => user(uniqueId(name), role) }
}
