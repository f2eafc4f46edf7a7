import { z } from 'zod'
import type { ClientBinding } from '../../models/client-binding.model'
import type { Core } from '../core'
import { AppError } from '../errors'
import { assertAdmin, assertSelfOrAdmin, parseId, recordOperation, type ActionContext } from '../action-context'

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

/** MQTT client ids bound to users; releasing one lets another user claim it (and ends its session). */
export class ClientBindingService {
  constructor(private readonly core: Core) {}

  async list(ctx: ActionContext, userId: number | string): Promise<ClientBindingView[]> {
    const id = parseId(userId, 'user')
    assertSelfOrAdmin(this.core, ctx, id)
    const rows = await this.core.db.models.ClientBinding.findAll({ where: { user_id: id }, order: [['client_id', 'ASC']] })
    return rows.map(toClientBindingView)
  }

  async release(ctx: ActionContext, clientId: string): Promise<void> {
    assertAdmin(this.core, ctx)
    const binding = await this.core.db.models.ClientBinding.findByPk(clientId)
    if (binding === null) throw new AppError('not_found', `client id ${clientId} is not bound`)
    await binding.destroy()
    recordOperation(this.core, ctx, 'client_binding.release', `client/${clientId}`, { user_id: binding.user_id })
    this.core.bus.announce({ kind: 'client-binding', clientId })
  }
}
