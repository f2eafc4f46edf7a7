import { parseIsoInZone, zoneOffsetMs } from '../../../../core/signals/zoned-time'

describe('parseIsoInZone', () => {
  test.each([
    ['2026-11-21', 'Asia/Shanghai', '2026-11-20T16:00:00.000Z'],
    ['2026-11-21T09:30:00', 'Asia/Shanghai', '2026-11-21T01:30:00.000Z'],
    ['2026-11-21T09:30', 'UTC', '2026-11-21T09:30:00.000Z'],
    ['2026-11-21 09:30:00.5', 'UTC', '2026-11-21T09:30:00.500Z'],
    ['2026-11-21T09:30:00Z', 'Asia/Shanghai', '2026-11-21T09:30:00.000Z'],
    ['2026-11-21T09:30:00+08:00', 'UTC', '2026-11-21T01:30:00.000Z'],
    ['2026-11-21T09:30:00-0500', 'UTC', '2026-11-21T14:30:00.000Z'],
    ['2026-07-01T12:00:00', 'America/New_York', '2026-07-01T16:00:00.000Z'],
    ['2026-01-01T12:00:00', 'America/New_York', '2026-01-01T17:00:00.000Z'],
    ['2024-02-29', 'UTC', '2024-02-29T00:00:00.000Z']
  ])('parseIsoInZone(%s, %s) reads the instant %s', (text, zone, expected) => {
    expect(parseIsoInZone(text, zone)?.toISOString()).toBe(expected)
  })

  test.each([
    '', 'tomorrow', '2026-13-01', '2026-02-30', '2025-02-29', '2026-11-21T24:00:00', '2026-11-21T09:60',
    '2026-11-21T09:30:00+25:00', '21/11/2026', '2026-11-21T09:30:00 UTC', '１２３４-01-01'
  ])('parseIsoInZone(%p) with an impossible or non-ISO time is null', (text) => {
    expect(parseIsoInZone(text, 'UTC')).toBeNull()
  })

  test('zoneOffsetMs for Asia/Shanghai is eight hours', () => {
    expect(zoneOffsetMs('Asia/Shanghai', Date.UTC(2026, 0, 1))).toBe(8 * 3_600_000)
  })
})
