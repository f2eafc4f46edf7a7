import fc from 'fast-check'
import { createSignalSchemas, MAX_DESCRIPTION, SYMBOL_PATTERN } from '../../core/signals/signal-schema'

/** Property tests of the one signal validator both doors use (core/signals/signal-schema.ts). */

const TYPES = ['buy', 'sell', 'open', 'close', 'hold']
const { signal, mqttSignal } = createSignalSchemas({ types: TYPES, timeZone: 'Asia/Shanghai' })
const RUNS = { numRuns: 300 }

const strategyId = fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/)
const symbol = fc.stringMatching(/^[A-Za-z0-9._:$@!~-]{1,32}$/)
const instant = fc.date({ min: new Date('1971-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true })
/** An ISO-8601 date-time with an explicit offset, and the instant it names. */
const dated = fc.tuple(instant, fc.integer({ min: -12 * 60, max: 14 * 60 })).map(([at, offsetMinutes]) => {
  const local = new Date(at.getTime() + offsetMinutes * 60000).toISOString().slice(0, 19)
  const sign = offsetMinutes < 0 ? '-' : '+'
  const abs = Math.abs(offsetMinutes)
  return { text: `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`, at: new Date(Math.floor(at.getTime() / 1000) * 1000) }
})
const json = fc.jsonValue({ maxDepth: 4 })
const payload = fc.option(fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), json, { maxKeys: 5 }), fc.array(json, { maxLength: 5 })), { nil: null })
const description = fc.string({ maxLength: 200 }).filter((s) => !s.includes('\u0000'))

const validSignal = fc.record({ strategy_id: strategyId, symbol, type: fc.constantFrom(...TYPES), dated, description, payload })

describe('signal schema properties', () => {
  test('every valid generated signal parses, keeps its fields and names the same instant', () => {
    fc.assert(fc.property(validSignal, (s) => {
      const parsed = signal.parse({ strategy_id: s.strategy_id, symbol: s.symbol, type: s.type, execute_date: s.dated.text, description: s.description, payload: s.payload })
      expect(parsed.strategy_id).toBe(s.strategy_id)
      expect(parsed.symbol).toBe(s.symbol)
      expect(parsed.type).toBe(s.type)
      expect(parsed.description).toBe(s.description)
      expect(parsed.execute_date.getTime()).toBe(s.dated.at.getTime())
      expect(JSON.parse(JSON.stringify(parsed.payload))).toEqual(JSON.parse(JSON.stringify(s.payload)))
    }), RUNS)
  })

  test('a parsed signal round-trips: serialised as on the wire and parsed again, it is the same', () => {
    fc.assert(fc.property(validSignal, (s) => {
      const first = signal.parse({ strategy_id: s.strategy_id, symbol: s.symbol, type: s.type, execute_date: s.dated.text, description: s.description, payload: s.payload })
      const wire = JSON.parse(JSON.stringify({ ...first, execute_date: first.execute_date.toISOString() })) as Record<string, unknown>
      const second = signal.parse(wire)
      // compared as JSON: the wire cannot tell -0 from 0
      expect(JSON.stringify(second)).toBe(JSON.stringify(first))
      const overMqtt = mqttSignal.parse({ type: wire.type, execute_date: wire.execute_date, description: wire.description, payload: wire.payload })
      expect(overMqtt.execute_date.getTime()).toBe(first.execute_date.getTime())
    }), RUNS)
  })

  const base = { strategy_id: 's1', type: 'buy', execute_date: '2026-01-01T09:30:00+08:00' }

  test('a symbol outside the pattern is always refused', () => {
    const bad = fc.oneof(
      fc.constant(''),
      fc.string({ minLength: 33, maxLength: 80 }),
      fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom('/', '+', '#', ' ', '\t', '\n', '\u0000', '\u0007', '\u007f', '\u0085'), fc.string({ maxLength: 10 })).map(([a, c, b]) => a + c + b)
    ).filter((s) => !SYMBOL_PATTERN.test(s))
    fc.assert(fc.property(bad, (sym) => {
      expect(signal.safeParse({ ...base, symbol: sym }).success).toBe(false)
    }), RUNS)
  })

  test('a type outside the configured set is always refused', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('BUY', 'Buy', ' buy', 'buy ', "buy' OR 1=1", '<script>')).filter((t) => !TYPES.includes(t)), (type) => {
      expect(signal.safeParse({ ...base, symbol: 'BTC', type }).success).toBe(false)
      expect(mqttSignal.safeParse({ type, execute_date: base.execute_date }).success).toBe(false)
    }), RUNS)
  })

  test('an impossible or malformed date is always refused', () => {
    const impossible = fc.oneof(
      fc.tuple(fc.integer({ min: 1000, max: 9999 }), fc.integer({ min: 13, max: 99 }), fc.integer({ min: 1, max: 28 })).map(([y, m, d]) => `${y}-${String(m)}-${String(d).padStart(2, '0')}`),
      fc.tuple(fc.integer({ min: 1000, max: 9999 }), fc.constantFrom('02-30', '02-31', '04-31', '06-31', '09-31', '11-31', '00-10', '01-00', '01-32')).map(([y, md]) => `${y}-${md}`),
      fc.tuple(fc.integer({ min: 24, max: 99 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `2026-01-01T${h}:${String(m).padStart(2, '0')}:00`),
      fc.integer({ min: 60, max: 99 }).map((m) => `2026-01-01T10:${m}:00+08:00`),
      fc.integer({ min: 24, max: 99 }).map((h) => `2026-01-01T10:00:00+${h}:00`),
      fc.string({ maxLength: 40 }).filter((s) => !/^\d{4}-\d{2}-\d{2}/.test(s)),
      fc.string({ minLength: 41, maxLength: 100 })
    )
    fc.assert(fc.property(impossible, (date) => {
      expect(signal.safeParse({ ...base, symbol: 'BTC', execute_date: date }).success).toBe(false)
    }), RUNS)
  })

  test('a description past the limit or with NUL is always refused', () => {
    const bad = fc.oneof(fc.string({ minLength: MAX_DESCRIPTION + 1, maxLength: MAX_DESCRIPTION + 50 }), fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })).map(([a, b]) => `${a}\u0000${b}`))
    fc.assert(fc.property(bad, (text) => {
      expect(signal.safeParse({ ...base, symbol: 'BTC', description: text }).success).toBe(false)
    }), { numRuns: 100 })
  })
})
