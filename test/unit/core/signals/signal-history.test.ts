import { dayBoundaries, dayInZone, decodeCursor, encodeCursor } from '../../../../core/signals/signal-history'

describe('history cursor', () => {
  test('round-trips a position', () => {
    expect(decodeCursor(encodeCursor({ strategyId: 'alpha.1', seq: 41 }))).toEqual({ strategyId: 'alpha.1', seq: 41 })
  })

  test.each(['', 'nope', Buffer.from('[1,2]').toString('base64url'), Buffer.from('["a",-1]').toString('base64url'), Buffer.from('["a",1.5]').toString('base64url'), Buffer.from('{"a":1}').toString('base64url')])('rejects %p', (text) => {
    expect(decodeCursor(text)).toBeNull()
  })
})

describe('dayBoundaries', () => {
  test('days of Asia/Shanghai start at 16:00 UTC the day before', () => {
    const { days, starts } = dayBoundaries(new Date('2026-01-01T00:00:00Z'), new Date('2026-01-02T12:00:00Z'), 'Asia/Shanghai')
    expect(days).toEqual(['2026-01-01', '2026-01-02'])
    expect(starts.map((d) => d.toISOString())).toEqual(['2025-12-31T16:00:00.000Z', '2026-01-01T16:00:00.000Z', '2026-01-02T16:00:00.000Z'])
  })

  test('a DST change makes a 23-hour day in America/New_York', () => {
    const { days, starts } = dayBoundaries(new Date('2026-03-08T05:00:00Z'), new Date('2026-03-09T04:00:00Z'), 'America/New_York')
    expect(days).toEqual(['2026-03-08'])
    expect(starts[1].getTime() - starts[0].getTime()).toBe(23 * 3_600_000)
  })

  test('dayInZone reads the calendar date in the zone', () => {
    expect(dayInZone(new Date('2026-01-01T17:00:00Z'), 'Asia/Shanghai')).toBe('2026-01-02')
    expect(dayInZone(new Date('2026-01-01T17:00:00Z'), 'UTC')).toBe('2026-01-01')
  })

  test('more than 366 days is refused', () => {
    expect(() => dayBoundaries(new Date('2024-01-01T00:00:00Z'), new Date('2026-01-01T00:00:00Z'), 'UTC')).toThrow('366')
  })
})
