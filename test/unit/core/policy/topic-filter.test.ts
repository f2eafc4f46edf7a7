import fc from 'fast-check'
import {
  filterCovers, filtersIntersect, isValidTopicFilter, isValidTopicName, topicMatches
} from '../../../../core/policy/topic-filter'

/** Reference matcher: the filter as a regular expression, plus the `$` rule [MQTT-4.7.2-1]. */
function referenceMatches(filter: string, topic: string): boolean {
  const levels = filter.split('/')
  if ((levels[0] === '+' || levels[0] === '#') && topic.startsWith('$')) return false
  let source = ''
  levels.forEach((level, i) => {
    const sep = i === 0 ? '' : '/'
    if (level === '#') source += i === 0 ? '.*' : '(/.*)?'
    else if (level === '+') source += `${sep}[^/]*`
    else source += sep + level.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  })
  return new RegExp(`^${source}$`, 's').test(topic)
}

const LITERALS = ['a', 'b', 'strategy', '$SYS', '']
const literal = fc.constantFrom(...LITERALS)
const topicArb = fc.array(literal, { minLength: 1, maxLength: 4 })
  .map((levels) => levels.join('/'))
  .filter(isValidTopicName)
const filterArb = fc.tuple(
  fc.array(fc.oneof(literal, fc.constant('+')), { minLength: 0, maxLength: 4 }),
  fc.boolean()
).map(([levels, hash]) => (hash ? [...levels, '#'] : levels).join('/')).filter(isValidTopicFilter)

/** Every topic over the filters' literals plus a fresh one, long enough to hold any witness. */
function universe(...filters: string[]): string[] {
  const lits = [...new Set([...filters.flatMap((f) => f.split('/')).filter((l) => l !== '+' && l !== '#'), 'fresh', '$x'])]
  const maxLength = Math.max(...filters.map((f) => f.split('/').length)) + 1
  const out: string[] = []
  const grow = (prefix: string[]): void => {
    if (prefix.length > 0) out.push(prefix.join('/'))
    if (prefix.length === maxLength) return
    for (const l of lits) grow([...prefix, l])
  }
  grow([])
  return out.filter(isValidTopicName)
}

describe('isValidTopicName', () => {
  test.each([
    ['strategy/s1/AAPL', true], ['/', true], ['a//b', true], ['$SYS/broker', true],
    ['', false], ['a/+', false], ['a/#', false], ['a\u0000b', false], ['a+b', false]
  ])('isValidTopicName(%j) returns %s', (topic, expected) => {
    expect(isValidTopicName(topic)).toBe(expected)
  })
})

describe('isValidTopicFilter', () => {
  test.each([
    ['#', true], ['+', true], ['a/#', true], ['+/+/#', true], ['a/+/b', true], ['/', true], ['$SYS/#', true],
    ['', false], ['a/#/b', false], ['a#', false], ['a/b#', false], ['a+/b', false], ['#/a', false], ['a\u0000', false]
  ])('isValidTopicFilter(%j) returns %s', (filter, expected) => {
    expect(isValidTopicFilter(filter)).toBe(expected)
  })
})

describe('topicMatches', () => {
  test.each([
    ['sport/tennis/player1/#', 'sport/tennis/player1', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
    ['sport/#', 'sport', true],
    ['#', 'a/b/c', true],
    ['sport/tennis/+', 'sport/tennis/player1', true],
    ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
    ['sport/+', 'sport', false],
    ['sport/+', 'sport/', true],
    ['+/+', '/finance', true],
    ['/+', '/finance', true],
    ['+', '/finance', false],
    ['#', '$SYS/broker', false],
    ['+/monitor/Clients', '$SYS/monitor/Clients', false],
    ['$SYS/#', '$SYS/monitor/Clients', true],
    ['$SYS/monitor/+', '$SYS/monitor/Clients', true],
    ['a/b', 'a/b', true],
    ['a/b', 'a/B', false],
    ['a/#/b', 'a/x/b', false],
    ['a/#', 'a/+', false]
  ])('topicMatches(%j, %j) returns %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected)
  })

  test('topicMatches on generated filters and topics agrees with the reference regex matcher', () => {
    fc.assert(fc.property(filterArb, topicArb, (filter, topic) => {
      expect(topicMatches(filter, topic)).toBe(referenceMatches(filter, topic))
    }), { numRuns: 2000 })
  })

  test('topicMatches with a valid name as its own filter returns true', () => {
    fc.assert(fc.property(topicArb, (topic) => topicMatches(topic, topic)))
  })
})

describe('filterCovers', () => {
  test.each([
    ['#', 'strategy/#', true],
    ['strategy/#', 'strategy/s1/+', true],
    ['strategy/#', 'strategy', true],
    ['strategy/#', 'strategy/#', true],
    ['strategy/+/AAPL', 'strategy/s1/AAPL', true],
    ['strategy/+/AAPL', 'strategy/+/AAPL', true],
    ['strategy/+/+', 'strategy/s1/#', false],
    ['strategy/s1/AAPL', 'strategy/+/AAPL', false],
    ['strategy/+', 'strategy/#', false],
    ['users/7/#', 'users/+/reports', false],
    ['#', '$SYS/#', false],
    ['+/x', '$SYS/x', false],
    ['#', '+/x', true],
    ['$SYS/#', '$SYS/broker/+', true],
    ['a/b', 'a/b/#', false]
  ])('filterCovers(%j, %j) returns %s', (outer, inner, expected) => {
    expect(filterCovers(outer, inner)).toBe(expected)
  })

  test('filterCovers on generated filters is exact over every topic that could tell them apart', () => {
    fc.assert(fc.property(filterArb, filterArb, (outer, inner) => {
      const counterExample = universe(outer, inner).find((t) => topicMatches(inner, t) && !topicMatches(outer, t))
      expect(filterCovers(outer, inner)).toBe(counterExample === undefined)
    }), { numRuns: 400 })
  })

  test('filterCovers with a filter and itself returns true', () => {
    fc.assert(fc.property(filterArb, (f) => filterCovers(f, f)))
  })
})

describe('filtersIntersect', () => {
  test.each([
    ['strategy/+/AAPL', 'strategy/s1/+', true],
    ['strategy/s1/#', 'strategy/s2/#', false],
    ['strategy/#', 'strategy', true],
    ['a/+', 'a', false],
    ['#', '$SYS/#', false],
    ['+/#', '$SYS/x', false],
    ['$SYS/#', '$SYS/+', true],
    ['a/b/c', 'a/+/c', true]
  ])('filtersIntersect(%j, %j) returns %s', (a, b, expected) => {
    expect(filtersIntersect(a, b)).toBe(expected)
  })

  test('filtersIntersect on generated filters is symmetric and exact over a witness universe', () => {
    fc.assert(fc.property(filterArb, filterArb, (a, b) => {
      const witness = universe(a, b).find((t) => topicMatches(a, t) && topicMatches(b, t))
      expect(filtersIntersect(a, b)).toBe(witness !== undefined)
      expect(filtersIntersect(b, a)).toBe(filtersIntersect(a, b))
    }), { numRuns: 400 })
  })

  test('filtersIntersect with invalid filters returns false', () => {
    expect(filtersIntersect('a/#/b', '#')).toBe(false)
    expect(filterCovers('#', 'a#')).toBe(false)
    expect(topicMatches('#', 'a/+')).toBe(false)
  })
})
