/**
 * MQTT 3.1.1 topic names and filters (section 4.7), as pure functions. Filters and
 * names are compared level by level; the `*Levels` variants take pre-split levels so
 * the policy can split a rule once and reuse it.
 */

const SEPARATOR = '/'

/** A topic a message may be published to: non-empty, no wildcards, no NUL [MQTT-4.7.3-1, 4.7.3-2]. */
export function isValidTopicName(topic: string): boolean {
  return topic.length > 0 && !/[+#]/.test(topic) && !topic.includes('\0')
}

/** A subscription filter: `#` only as the whole last level, `+` only as a whole level [MQTT-4.7.1-2, 4.7.1-3]. */
export function isValidTopicFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes('\u0000')) return false
  const levels = filter.split(SEPARATOR)
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return false
    if (level.includes('+') && level !== '+') return false
  }
  return true
}

export function splitLevels(topicOrFilter: string): string[] {
  return topicOrFilter.split(SEPARATOR)
}

function isWildcard(level: string): boolean {
  return level === '+' || level === '#'
}

/** A first-level wildcard never matches a topic beginning with `$` [MQTT-4.7.2-1]. */
function wildcardReaches(index: number, level: string): boolean {
  return index !== 0 || !level.startsWith('$')
}

/** True when the filter matches the topic name. Both must be valid; invalid input never matches. */
export function topicMatches(filter: string, topic: string): boolean {
  if (!isValidTopicFilter(filter) || !isValidTopicName(topic)) return false
  return levelsMatch(splitLevels(filter), splitLevels(topic))
}

export function levelsMatch(filter: readonly string[], topic: readonly string[]): boolean {
  for (let i = 0; i < filter.length; i++) {
    const f = filter[i]
    if (f === '#') {
      // `a/#` also matches `a` [MQTT-4.7.1-2]
      return i > 0 || wildcardReaches(0, topic[0])
    }
    if (i >= topic.length) return false
    if (f === '+') {
      if (!wildcardReaches(i, topic[i])) return false
    } else if (f !== topic[i]) {
      return false
    }
  }
  return filter.length === topic.length
}

/** True when every topic matched by `inner` is also matched by `outer`. */
export function filterCovers(outer: string, inner: string): boolean {
  if (!isValidTopicFilter(outer) || !isValidTopicFilter(inner)) return false
  return levelsCover(splitLevels(outer), splitLevels(inner))
}

export function levelsCover(outer: readonly string[], inner: readonly string[]): boolean {
  for (let i = 0; i < inner.length; i++) {
    if (i >= outer.length) return false
    const o = outer[i]
    const n = inner[i]
    if (o === '#') return isWildcard(n) || wildcardReaches(i, n)
    if (n === '#') {
      // when the parent would be the empty topic (no valid name), `#` needs no parent, so `+/#` covers it too
      const parentless = i === 0 || (i === 1 && inner[0] === '')
      return parentless && o === '+' && outer.length === i + 2 && outer[i + 1] === '#'
    }
    if (o === '+') {
      if (n !== '+' && !wildcardReaches(i, n)) return false
    } else if (o !== n) {
      return false
    }
  }
  // inner ends here; `outer` may still match the same topics through a trailing `#`
  return outer.length === inner.length || (outer.length === inner.length + 1 && outer[inner.length] === '#')
}

/** True when some topic name is matched by both filters. */
export function filtersIntersect(a: string, b: string): boolean {
  if (!isValidTopicFilter(a) || !isValidTopicFilter(b)) return false
  return levelsIntersect(splitLevels(a), splitLevels(b))
}

export function levelsIntersect(a: readonly string[], b: readonly string[]): boolean {
  const length = Math.max(a.length, b.length)
  for (let i = 0; i < length; i++) {
    if (i >= a.length || i >= b.length) {
      // a parent match (`x/#` matches `x`) must not rely on the empty topic, which is no valid name
      const longer = i >= a.length ? b : a
      return longer[i] === '#' && !(i === 1 && (a[0] === '' || b[0] === ''))
    }
    const x = a[i]
    const y = b[i]
    if (x === '#' || y === '#') {
      const other = x === '#' ? y : x
      return isWildcard(other) || wildcardReaches(i, other)
    }
    if (x === '+' || y === '+') {
      const other = x === '+' ? y : x
      if (other !== '+' && !wildcardReaches(i, other)) return false
    } else if (x !== y) {
      return false
    }
  }
  return true
}
