/** Times as the viewer reads them: in the browser's zone, which is named on screen. */

export function viewerTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone
}

/** The zone's name and offset, e.g. "Asia/Shanghai (GMT+8)". */
export function zoneLabel(locale: string, at: Date = new Date()): string {
  const zone = viewerTimeZone()
  const offset = new Intl.DateTimeFormat(locale, { timeZoneName: 'shortOffset' }).formatToParts(at).find((p) => p.type === 'timeZoneName')?.value
  return offset === undefined ? zone : `${zone} (${offset})`
}

export function formatTime(iso: string | null | undefined, locale: string): string {
  if (iso === null || iso === undefined || iso === '') return ''
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  return new Intl.DateTimeFormat(locale, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(date)
}

/** A `datetime-local` value (the viewer's wall clock) as ISO-8601 with the viewer's offset, or the raw text when unparsable. */
export function localInputToIso(value: string): string {
  if (value === '') return ''
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) return value
  const offsetMinutes = -date.getTimezoneOffset()
  const sign = offsetMinutes >= 0 ? '+' : '-'
  const abs = Math.abs(offsetMinutes)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${value.length === 16 ? `${value}:00` : value}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
}

/** Now, as a `datetime-local` value in the viewer's zone (minutes precision). */
export function nowForInput(at: Date = new Date()): string {
  const local = new Date(at.getTime() - at.getTimezoneOffset() * 60_000)
  return local.toISOString().slice(0, 16)
}
