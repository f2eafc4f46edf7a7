import { Op } from 'sequelize'
import type { Database } from '../../models/database'
import type { ApiKey, ApiKeyStatus } from '../../models/api-key.model'
import type { ChangeBus } from '../change-bus'
import { AppError } from '../errors'
import type { Principal } from '../principal'
import { generateApiKey, hashApiKey, keyMatchesHash, MAX_KEY_LENGTH, prefixOf } from './api-key'

/** A key as listed: never the secret, never the hash. */
export interface KeyView {
  id: number
  user_id: number
  prefix: string
  label: string | null
  status: ApiKeyStatus
  created_at: string
  expires_at: string | null
  last_used_at: string | null
  revoked_at: string | null
  rotated_from_id: number | null
}

/** A key just created: the only moment its secret is known. */
export interface IssuedKey {
  id: number
  prefix: string
  key: string
  expires_at: string | null
}

export interface KeyServiceOptions {
  /** Hours a rotated key keeps working. */
  graceHours: number
  /** Milliseconds a verified key is trusted without asking the database again. */
  cacheMs: number
  now?: () => Date
}

interface CachedPrincipal {
  principal: Principal
  /** Key expiry, if any: a cached key still stops at its deadline. */
  expiresAt: number | null
  cachedUntil: number
}

const LAST_USED_RESOLUTION_MS = 60_000

export function toKeyView(k: ApiKey): KeyView {
  return {
    id: k.id,
    user_id: k.user_id,
    prefix: k.prefix,
    label: k.label,
    status: k.status,
    created_at: k.created_at.toISOString(),
    expires_at: k.expires_at?.toISOString() ?? null,
    last_used_at: k.last_used_at?.toISOString() ?? null,
    revoked_at: k.revoked_at?.toISOString() ?? null,
    rotated_from_id: k.rotated_from_id
  }
}

/**
 * API keys: issue, rotate, revoke, and verify. `verify` is the one function both doors
 * call. Verified keys are cached for `cacheMs`; any change to a key or its user on this
 * node clears the cache before the call that made it returns, and other nodes clear
 * theirs when the change bus tells them.
 */
export class KeyService {
  private readonly cache = new Map<string, CachedPrincipal>()
  private readonly lastUsedWritten = new Map<number, number>()
  private readonly now: () => Date

  constructor(private readonly db: Database, private readonly bus: ChangeBus, private readonly options: KeyServiceOptions) {
    this.now = options.now ?? (() => new Date())
    bus.on('change', (change) => {
      if (change.kind === 'key' || change.kind === 'user') this.evictUser(change.userId)
    })
  }

  /** The principal behind `rawKey`, or an AppError: unauthenticated, key_revoked, key_expired or user_disabled. */
  async verify(rawKey: string | undefined | null): Promise<Principal> {
    if (typeof rawKey !== 'string' || rawKey.length === 0 || rawKey.length > MAX_KEY_LENGTH) {
      throw new AppError('unauthenticated')
    }
    const now = this.now().getTime()
    const cacheKey = hashApiKey(rawKey)
    const cached = this.cache.get(cacheKey)
    if (cached !== undefined && cached.cachedUntil > now && (cached.expiresAt === null || cached.expiresAt > now)) {
      return cached.principal
    }
    this.cache.delete(cacheKey)

    const { ApiKey, User } = this.db.models
    const key = await ApiKey.findOne({ where: { prefix: prefixOf(rawKey) } })
    if (key === null || !keyMatchesHash(rawKey, key.hash)) throw new AppError('unauthenticated')
    if (key.status === 'revoked') throw new AppError('key_revoked')
    if (key.expires_at !== null && key.expires_at.getTime() <= now) throw new AppError('key_expired')
    const user = await User.findByPk(key.user_id)
    if (user === null) throw new AppError('unauthenticated')
    if (user.status !== 'active') throw new AppError('user_disabled')

    const principal: Principal = { userId: user.id, userName: user.name, role: user.role, keyId: key.id, keyPrefix: key.prefix }
    if (this.options.cacheMs > 0) {
      this.cache.set(cacheKey, { principal, expiresAt: key.expires_at?.getTime() ?? null, cachedUntil: now + this.options.cacheMs })
    }
    this.touch(key.id, now)
    return principal
  }

  /** Asks the database (not the cache) whether the key and user behind `principal` may still act. */
  async stillValid(principal: Principal): Promise<boolean> {
    if (principal.keyId === null) return true
    const key = await this.db.models.ApiKey.findByPk(principal.keyId)
    if (key === null || key.status === 'revoked') return false
    if (key.expires_at !== null && key.expires_at.getTime() <= this.now().getTime()) return false
    const user = await this.db.models.User.findByPk(principal.userId)
    return user !== null && user.status === 'active' && user.role === principal.role
  }

  /** When the key stops working (null: never, or no such key), read from the database. */
  async expiresAt(keyId: number): Promise<Date | null> {
    const key = await this.db.models.ApiKey.findByPk(keyId, { attributes: ['expires_at'] })
    return key?.expires_at ?? null
  }

  /** Records use at most once a minute per key, off the request path. */
  private touch(keyId: number, now: number): void {
    const last = this.lastUsedWritten.get(keyId) ?? 0
    if (now - last < LAST_USED_RESOLUTION_MS) return
    this.lastUsedWritten.set(keyId, now)
    this.db.models.ApiKey.update({ last_used_at: new Date(now) }, { where: { id: keyId } }).catch(() => undefined)
  }

  private evictUser(userId: number): void {
    for (const [hash, entry] of this.cache) {
      if (entry.principal.userId === userId) this.cache.delete(hash)
    }
  }

  async create(userId: number, options: { label?: string | null, expiresAt?: Date | null } = {}): Promise<IssuedKey> {
    const user = await this.db.models.User.findByPk(userId)
    if (user === null) throw new AppError('not_found', `user ${userId} not found`)
    const generated = generateApiKey()
    const row = await this.db.models.ApiKey.create({
      user_id: userId,
      prefix: generated.prefix,
      hash: generated.hash,
      label: options.label ?? null,
      expires_at: options.expiresAt ?? null,
      rotated_from_id: null
    })
    return { id: row.id, prefix: row.prefix, key: generated.key, expires_at: row.expires_at?.toISOString() ?? null }
  }

  /** Stores an operator-chosen key for `userId` unless a key with the same hash exists already. */
  async adopt(userId: number, rawKey: string, label: string): Promise<{ id: number, created: boolean }> {
    const hash = hashApiKey(rawKey)
    const existing = await this.db.models.ApiKey.findOne({ where: { prefix: prefixOf(rawKey) } })
    if (existing !== null) {
      if (existing.hash !== hash) throw new AppError('conflict', 'another key already uses this prefix')
      return { id: existing.id, created: false }
    }
    const row = await this.db.models.ApiKey.create({ user_id: userId, prefix: prefixOf(rawKey), hash, label, expires_at: null, rotated_from_id: null })
    return { id: row.id, created: true }
  }

  async get(keyId: number): Promise<ApiKey> {
    const key = await this.db.models.ApiKey.findByPk(keyId)
    if (key === null) throw new AppError('not_found', `key ${keyId} not found`)
    return key
  }

  async list(userId: number): Promise<KeyView[]> {
    const rows = await this.db.models.ApiKey.findAll({ where: { user_id: userId }, order: [['id', 'ASC']] })
    return rows.map(toKeyView)
  }

  /** Issues a new key for the same user; the old one stays valid for the grace period, then fails. */
  async rotate(keyId: number): Promise<IssuedKey & { previous: KeyView }> {
    const old = await this.get(keyId)
    if (old.status === 'revoked') throw new AppError('conflict', 'a revoked key cannot be rotated')
    const graceEnd = new Date(this.now().getTime() + this.options.graceHours * 3_600_000)
    const issued = await this.create(old.user_id, { label: old.label })
    await this.db.models.ApiKey.update({ rotated_from_id: old.id }, { where: { id: issued.id } })
    const expiresAt = old.expires_at !== null && old.expires_at < graceEnd ? old.expires_at : graceEnd
    await old.update({ status: 'expiring', expires_at: expiresAt })
    this.bus.announce({ kind: 'key', keyId: old.id, userId: old.user_id })
    return { ...issued, previous: toKeyView(old) }
  }

  /** Revokes a key at once, on every door and every node. */
  async revoke(keyId: number): Promise<KeyView> {
    const key = await this.get(keyId)
    if (key.status !== 'revoked') {
      await key.update({ status: 'revoked', revoked_at: this.now() })
    }
    this.bus.announce({ kind: 'key', keyId: key.id, userId: key.user_id })
    return toKeyView(key)
  }

  /** Revokes every key whose deadline has passed by `now`; returns the keys revoked. */
  async revokeExpired(now: Date = this.now()): Promise<KeyView[]> {
    const due = await this.db.models.ApiKey.findAll({
      where: { status: { [Op.ne]: 'revoked' }, expires_at: { [Op.lte]: now } }
    })
    const out: KeyView[] = []
    for (const key of due) out.push(await this.revoke(key.id))
    return out
  }
}
