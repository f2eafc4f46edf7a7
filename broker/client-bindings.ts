import { UniqueConstraintError } from 'sequelize'
import type { Database } from '../models/database'

const LAST_SEEN_RESOLUTION_MS = 60_000
const MAX_CACHED = 100_000

/**
 * Client ids belong to users (table `client_bindings`): the first user to connect with
 * an id owns it until an admin releases it (the row is deleted and a
 * `{kind:'client-binding'}` change announced, which calls `forget`). Known owners are
 * cached; a cached owner can only be stale after such a release.
 */
export class ClientBindings {
  private readonly owners = new Map<string, number>()
  private readonly seenAt = new Map<string, number>()

  constructor(private readonly db: Database, private readonly now: () => Date) {}

  /** True when `clientId` is (now) bound to `userId`; false when another user owns it. */
  async claim(clientId: string, userId: number): Promise<boolean> {
    let owner = this.owners.get(clientId) ?? await this.load(clientId)
    if (owner === undefined) owner = await this.bind(clientId, userId)
    if (this.owners.size >= MAX_CACHED) this.owners.clear()
    this.owners.set(clientId, owner)
    if (owner === userId) this.touch(clientId)
    return owner === userId
  }

  forget(clientId: string): void {
    this.owners.delete(clientId)
    this.seenAt.delete(clientId)
  }

  private async load(clientId: string): Promise<number | undefined> {
    const row = await this.db.models.ClientBinding.findByPk(clientId, { attributes: ['user_id'] })
    return row === null ? undefined : Number(row.user_id)
  }

  /** Binds the id; when another node bound it first, that binding stands. */
  private async bind(clientId: string, userId: number): Promise<number> {
    const now = this.now()
    try {
      await this.db.models.ClientBinding.create({ client_id: clientId, user_id: userId, last_seen_at: now })
      this.seenAt.set(clientId, now.getTime())
      return userId
    } catch (err) {
      if (!(err instanceof UniqueConstraintError)) throw err
      const owner = await this.load(clientId)
      if (owner === undefined) throw err
      return owner
    }
  }

  /** Records the last connection at most once a minute per id, off the CONNECT path. */
  private touch(clientId: string): void {
    const now = this.now()
    if (now.getTime() - (this.seenAt.get(clientId) ?? 0) < LAST_SEEN_RESOLUTION_MS) return
    if (this.seenAt.size >= MAX_CACHED) this.seenAt.clear()
    this.seenAt.set(clientId, now.getTime())
    this.db.models.ClientBinding.update({ last_seen_at: now }, { where: { client_id: clientId } }).catch(() => undefined)
  }
}
