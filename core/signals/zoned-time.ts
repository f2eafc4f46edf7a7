/**
 * Reading ISO-8601 times given without an offset in a configured IANA zone.
 * `Date` alone reads them in the process zone, which is not what the operator chose.
 */

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit'
    })
    formatters.set(timeZone, f)
  }
  return f
}

// Zones change their offset only on quarter hours, so an offset found once holds for its
// whole quarter hour; Intl formatting is by far the dearest step of reading a time.
const QUARTER_HOUR_MS = 15 * 60_000
const MAX_CACHED_OFFSETS = 10_000
const offsets = new Map<string, number>()

/** Milliseconds `timeZone` is ahead of UTC at the instant `utcMs`. */
export function zoneOffsetMs(timeZone: string, utcMs: number): number {
  const key = `${timeZone} ${Math.floor(utcMs / QUARTER_HOUR_MS)}`
  let offset = offsets.get(key)
  if (offset === undefined) {
    offset = computeOffset(timeZone, utcMs)
    if (offsets.size >= MAX_CACHED_OFFSETS) offsets.clear()
    offsets.set(key, offset)
  }
  return offset
}

function computeOffset(timeZone: string, utcMs: number): number {
  const parts: Record<string, number> = {}
  for (const p of formatterFor(timeZone).formatToParts(new Date(utcMs))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value)
  }
  const asUtc = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second)
  return asUtc - Math.floor(utcMs / 1000) * 1000
}

/** The UTC instant of a wall-clock time in `timeZone` (the earlier one when a DST change repeats it). */
export function wallTimeToUtc(timeZone: string, y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): Date {
  const guess = Date.UTC(y, mo - 1, d, h, mi, s, ms)
  const first = guess - zoneOffsetMs(timeZone, guess)
  const second = guess - zoneOffsetMs(timeZone, first)
  return new Date(Math.min(first, second))
}

/**
 * Parses an ISO-8601 date (`2026-11-21`) or date-time with or without offset.
 * Without an offset the time is read in `timeZone`. Returns null when the text is not
 * such a time or names an impossible date (2026-02-30).
 */
export function parseIsoInZone(text: string, timeZone: string): Date | null {
  const m = ISO.exec(text)
  if (m === null) return null
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const [h, mi, s] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)]
  const ms = Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3))
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null
  const probe = new Date(Date.UTC(y, mo - 1, d))
  if (probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d) return null
  const offset = m[8]
  if (offset === undefined) return wallTimeToUtc(timeZone, y, mo, d, h, mi, s, ms)
  if (offset === 'Z') return new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms))
  const sign = offset.startsWith('-') ? -1 : 1
  const digits = offset.slice(1).replace(':', '')
  const oh = Number(digits.slice(0, 2))
  const om = Number(digits.slice(2, 4))
  if (oh > 23 || om > 59) return null
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms) - sign * (oh * 60 + om) * 60_000)
}
