import { UniqueConstraintError } from 'sequelize'
import { z } from 'zod'
import type { ClientBinding } from '../../models/client-binding.model'
import type { Database } from '../../models/database'
import type { Operations } from '../operations'
import { AppError } from '../errors'
import { parseId, type ActionContext } from '../action-context'

export const clientBindingViewSchema = z.object({
  client_id: z.string(),
  user_id: z.number().int(),
  created_at: z.string(),
  last_seen_at: z.string()
})

export type ClientBindingView = z.infer<typeof clientBindingViewSchema>

export function toClientBindingView(b: ClientBinding): ClientBindingView {
  return { client_id: b.client_id, user_id: b.user_id, created_at: b.created_at.toISOString(), last_seen_at: b.last_seen_at.toISOString() }
}

const LAST_SEEN_RESOLUTION_MS = 60_000
const MAX_CACHED = 100_000

/**
 * MQTT client ids belong to users (table `client_bindings`): the first user to connect
 * with an id owns it until an admin releases it, which lets another user claim it (and
 * ends its session). Known owners are cached; a cached owner can only be stale after a
 * release, which every node hears as a `{kind:'client-binding'}` change.
 */
export class ClientBindingService {
  private readonly owners = new Map<string, number>()
  private readonly seenAt = new Map<string, number>()

  constructor(private readonly db: Database, private readonly ops: Operations) {
    ops.bus.on('change', (change) => {
      if (change.kind === 'client-binding') this.forget(change.clientId)
    })
  }

  async list(ctx: ActionContext, userId: number | string): Promise<ClientBindingView[]> {
    const id = parseId(userId, 'user')
    this.ops.assertSelfOrAdmin(ctx, id)
    const rows = await this.db.models.ClientBinding.findAll({ where: { user_id: id }, order: [['client_id', 'ASC']] })
    return rows.map(toClientBindingView)
  }

  async release(ctx: ActionContext, clientId: string): Promise<void> {
    this.ops.assertAdmin(ctx)
    const binding = await this.db.models.ClientBinding.findByPk(clientId)
    if (binding === null) throw new AppError('not_found', `client id ${clientId} is not bound`)
    await binding.destroy()
    this.ops.record(ctx, 'client_binding.release', `client/${clientId}`, { user_id: binding.user_id })
    this.ops.bus.announce({ kind: 'client-binding', clientId })
  }

  /** True when `clientId` is (now) bound to `userId`; false when another user owns it. */
  async claim(clientId: string, userId: number): Promise<boolean> {
    let owner = this.owners.get(clientId) ?? await this.load(clientId)
    if (owner === undefined) owner = await this.bind(clientId, userId)
    if (this.owners.size >= MAX_CACHED) this.owners.clear()
    this.owners.set(clientId, owner)
    if (owner === userId) this.touch(clientId)
    return owner === userId
  }

  private forget(clientId: string): void {
    this.owners.delete(clientId)
    this.seenAt.delete(clientId)
  }

  private async load(clientId: string): Promise<number | undefined> {
    const row = await this.db.models.ClientBinding.findByPk(clientId, { attributes: ['user_id'] })
    return row === null ? undefined : Number(row.user_id)
  }

  /** Binds the id; when another node bound it first, that binding stands. */
  private async bind(clientId: string, userId: number): Promise<number> {
    const now = this.ops.now()
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
    const now = this.ops.now()
    if (now.getTime() - (this.seenAt.get(clientId) ?? 0) < LAST_SEEN_RESOLUTION_MS) return
    if (this.seenAt.size >= MAX_CACHED) this.seenAt.clear()
    this.seenAt.set(clientId, now.getTime())
    this.db.models.ClientBinding.update({ last_seen_at: now }, { where: { client_id: clientId } }).catch(() => undefined)
  }
}
