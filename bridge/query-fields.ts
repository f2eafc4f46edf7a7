import { z } from './openapi'
import { parseIsoInZone } from '../core/signals/zoned-time'

/** A query-string time: ISO-8601 date or date-time; without an offset it is read in `timeZone`. */
export function isoTime(timeZone: string) {
  return z.string().max(40).transform((text, ctx) => {
    const at = parseIsoInZone(text, timeZone)
    if (at === null) {
      ctx.addIssue({ code: 'custom', message: 'an ISO-8601 date or date-time, e.g. 2026-11-21 or 2026-11-21T09:30:00+08:00' })
      return z.NEVER
    }
    return at
  }).openapi({ type: 'string', example: '2026-11-21T09:30:00+08:00', description: `ISO-8601; without an offset, read in ${timeZone}` })
}

/** A non-negative integer given as query text. */
export const queryInt = z.string().regex(/^\d{1,15}$/, 'a non-negative integer').transform(Number)

/** `from < to` for a query with both. */
export function orderedRange<T extends { from?: Date, to?: Date }>(value: T, ctx: z.RefinementCtx): void {
  if (value.from !== undefined && value.to !== undefined && value.from.getTime() >= value.to.getTime()) {
    ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be later than from' })
  }
}
