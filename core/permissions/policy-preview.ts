import type { Database } from '../../models/database'
import { loadPolicySnapshot } from '../policy/policy-store'
import { Policy, type PolicySnapshot } from '../policy/policy'

/**
 * The policy as it would be after a change, to ask "would this be allowed?" before
 * making it (may this user create strategy X, subscribe itself to Y). It reuses the
 * one policy, so no rule is written twice; it reads the database, so it is for
 * management operations, never the hot path.
 */
export async function previewPolicy(db: Database, change: (snapshot: PolicySnapshot) => void): Promise<Policy> {
  const snapshot = await loadPolicySnapshot(db)
  change(snapshot)
  return new Policy(snapshot)
}
