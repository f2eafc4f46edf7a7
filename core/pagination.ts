import { z } from 'zod'
import { AppError } from './errors'

/**
 * Cursor pagination shared by every management list. A cursor is opaque to clients:
 * the base64url of the last row's key. Lists fetch `limit + 1` rows to know whether
 * another page follows.
 */

export const MAX_PAGE_LIMIT = 500
export const DEFAULT_PAGE_LIMIT = 50

export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_LIMIT).default(DEFAULT_PAGE_LIMIT),
  cursor: z.string().min(1).max(200).optional()
})

export interface PageRequest {
  limit?: number
  cursor?: string
}

export interface Page<T> {
  data: T[]
  next_cursor: string | null
}

export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), next_cursor: z.string().nullable() })
}

export function encodeCursor(key: string | number): string {
  return Buffer.from(`k:${String(key)}`, 'utf8').toString('base64url')
}

function decodeRaw(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  if (!text.startsWith('k:') || text.length < 3) {
    throw new AppError('validation_failed', 'cursor is not one returned by this list', { issues: [{ path: 'cursor', message: 'unknown cursor' }] })
  }
  return text.slice(2)
}

/** The key after which the next page starts, or undefined for the first page. */
export function decodeStringCursor(cursor: string | undefined): string | undefined {
  return cursor === undefined ? undefined : decodeRaw(cursor)
}

export function decodeNumericCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined
  const value = Number(decodeRaw(cursor))
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new AppError('validation_failed', 'cursor is not one returned by this list', { issues: [{ path: 'cursor', message: 'unknown cursor' }] })
  }
  return value
}

export function pageLimit(page: PageRequest): number {
  return Math.min(Math.max(Math.trunc(page.limit ?? DEFAULT_PAGE_LIMIT), 1), MAX_PAGE_LIMIT)
}

/** Turns `limit + 1` fetched rows into a page. */
export function toPage<R, T>(rows: R[], limit: number, keyOf: (row: R) => string | number, view: (row: R) => T): Page<T> {
  const more = rows.length > limit
  const shown = more ? rows.slice(0, limit) : rows
  return { data: shown.map(view), next_cursor: more ? encodeCursor(keyOf(shown[shown.length - 1])) : null }
}
