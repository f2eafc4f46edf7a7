import { z } from 'zod'
import type { IssuedKey, KeyView } from '../auth/key-service'
import type { Database } from '../../models/database'
import type { KeyService } from '../auth/key-service'
import type { Operations } from '../operations'
import { AppError } from '../errors'
import { parseId, type ActionContext } from '../action-context'
import { parseInput } from '../parse-input'

export const createKeySchema = z.strictObject({
  label: z.string().trim().min(1).max(100).nullable().optional(),
  expires_at: z.iso.datetime({ offset: true }).nullable().optional()
})

export const issuedKeySchema = z.object({
  id: z.number().int(),
  prefix: z.string(),
  key: z.string().describe('the API key; shown only in this response'),
  expires_at: z.string().nullable()
})

export const keyViewSchema = z.object({
  id: z.number().int(),
  user_id: z.number().int(),
  prefix: z.string(),
  label: z.string().nullable(),
  status: z.enum(['active', 'expiring', 'revoked']),
  created_at: z.string(),
  expires_at: z.string().nullable(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
  rotated_from_id: z.number().int().nullable()
})

export type CreateKeyInput = z.input<typeof createKeySchema>

/**
 * API keys as users and admins manage them: who may act on which key, and the audit
 * entry for each change. The key itself lives in `KeyService` (the one verifier).
 */
export class KeyManagement {
  constructor(private readonly db: Database, private readonly keys: KeyService, private readonly ops: Operations) {}

  /** A new key for `userId` (admin, or the user itself); the secret is in the result only. */
  async create(ctx: ActionContext, userId: number | string, input: CreateKeyInput = {}): Promise<IssuedKey> {
    const id = parseId(userId, 'user')
    this.ops.assertSelfOrAdmin(ctx, id)
    const data = parseInput(createKeySchema, input)
    const expiresAt = data.expires_at == null ? null : new Date(data.expires_at)
    if (expiresAt !== null && expiresAt.getTime() <= this.ops.now().getTime()) {
      throw new AppError('validation_failed', 'expires_at must be in the future', { issues: [{ path: 'expires_at', message: 'must be in the future' }] })
    }
    const issued = await this.keys.create(id, { label: data.label ?? null, expiresAt })
    this.ops.record(ctx, 'key.create', `key/${issued.id}`, { user_id: id, prefix: issued.prefix, expires_at: issued.expires_at })
    return issued
  }

  async list(ctx: ActionContext, userId: number | string): Promise<KeyView[]> {
    const id = parseId(userId, 'user')
    this.ops.assertSelfOrAdmin(ctx, id)
    if (await this.db.models.User.findByPk(id) === null) throw new AppError('not_found', `user ${id} not found`)
    return this.keys.list(id)
  }

  /** A new key for the same user; the old one keeps working for KEY_GRACE_HOURS. */
  async rotate(ctx: ActionContext, keyId: number | string): Promise<IssuedKey & { previous: KeyView }> {
    const key = await this.owned(ctx, keyId)
    const rotated = await this.keys.rotate(key.id)
    this.ops.record(ctx, 'key.rotate', `key/${key.id}`, {
      user_id: key.user_id, new_key_id: rotated.id, prefix: rotated.prefix, old_key_valid_until: rotated.previous.expires_at
    })
    return rotated
  }

  /** Revokes at once: REST refuses the key immediately and MQTT sessions using it are closed. */
  async revoke(ctx: ActionContext, keyId: number | string): Promise<KeyView> {
    const key = await this.owned(ctx, keyId)
    const view = await this.keys.revoke(key.id)
    this.ops.record(ctx, 'key.revoke', `key/${key.id}`, { user_id: key.user_id, prefix: key.prefix })
    return view
  }

  /** The key, if the caller owns it or is an admin; another user's key is reported as missing. */
  private async owned(ctx: ActionContext, keyId: number | string) {
    const key = await this.keys.get(parseId(keyId, 'key'))
    if (key.user_id !== ctx.principal.userId && !this.ops.isAdmin(ctx)) throw new AppError('forbidden', 'only the key\'s owner or an admin may change it')
    return key
  }
}
