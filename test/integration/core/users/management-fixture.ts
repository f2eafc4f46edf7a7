import { loadConfig } from '../../../../core/config'
import { createCore, type Core } from '../../../../core/core'
import type { ActionContext } from '../../../../core/action-context'
import { scratchDatabase, type ScratchDatabase } from '../../../helpers/database'

/** A core on a scratch database, and users to act as, for the management service tests. */
export interface ManagementFixture {
  core: Core
  scratch: ScratchDatabase
  /** Creates a user (no key) and returns the context to act as it. */
  actor(name: string, role?: 'admin' | 'publisher' | 'subscriber' | string): Promise<ActionContext>
  close(): Promise<void>
}

export async function managementFixture(): Promise<ManagementFixture> {
  const scratch = await scratchDatabase()
  const core = await createCore(loadConfig({
    DATABASE_URL: scratch.url,
    REDIS_URL: process.env.REDIS_URL,
    REDIS_PREFIX: `shm${Math.random().toString(36).slice(2, 8)}:`,
    LOG_LEVEL: 'silent'
  }))
  return {
    core,
    scratch,
    async actor(name, role = 'subscriber') {
      const user = await core.db.models.User.create({ name, contact: null, role })
      return { principal: { userId: user.id, userName: name, role, keyId: null, keyPrefix: null }, ip: '127.0.0.1', requestId: `test-${name}` }
    },
    async close() {
      await core.close()
      await scratch.drop()
    }
  }
}
