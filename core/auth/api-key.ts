import { hash, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * API key format: `shk_<prefix>_<secret>`. The 12-character prefix is public: it is
 * stored in clear to find the key and may be shown in lists and logs. The secret is
 * 32 random bytes; only the SHA-256 of the whole key is stored. A slow hash would buy
 * nothing for 256-bit random secrets and would cost every MQTT CONNECT.
 *
 * Keys chosen by an operator (BOOTSTRAP_ADMIN_KEY) do not follow the format; their
 * prefix is derived from their hash instead, so they are found the same way.
 */

const FORMAT = /^shk_([a-z0-9]{12})_[A-Za-z0-9_-]{43}$/
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'

export interface GeneratedKey {
  key: string
  prefix: string
  hash: string
}

function randomPrefix(): string {
  const bytes = randomBytes(12)
  let out = ''
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length]
  return out
}

export function hashApiKey(key: string): string {
  return hash('sha256', key, 'hex')
}

/** The public prefix that finds `key`: embedded in generated keys, derived from the hash otherwise. */
export function prefixOf(key: string): string {
  const match = FORMAT.exec(key)
  if (match !== null) return match[1]
  return `x${hashApiKey(key).slice(0, 11)}`
}

export function generateApiKey(): GeneratedKey {
  const prefix = randomPrefix()
  const key = `shk_${prefix}_${randomBytes(32).toString('base64url')}`
  return { key, prefix, hash: hashApiKey(key) }
}

/** Constant-time comparison of a presented key with a stored hash. */
export function keyMatchesHash(key: string, storedHash: string): boolean {
  const presented = Buffer.from(hashApiKey(key), 'hex')
  const stored = Buffer.from(storedHash, 'hex')
  return presented.length === stored.length && timingSafeEqual(presented, stored)
}

/** Keys longer than this are refused before any work is done on them. */
export const MAX_KEY_LENGTH = 256
