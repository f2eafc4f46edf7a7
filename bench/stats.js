'use strict'
/** Small helpers for summarising samples. */

/** The q-quantile (0..1) of an ascending-sorted numeric array (nearest rank). */
function quantile(sorted, q) {
  if (sorted.length === 0) return null
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank]
}

/** Sorts a copy (typed arrays too) ascending. */
function sortedCopy(values) {
  return Float64Array.from(values).sort()
}

/** The median of some numbers, ignoring null/undefined/NaN; null when none. */
function median(values) {
  const xs = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b)
  if (xs.length === 0) return null
  const mid = Math.floor(xs.length / 2)
  return xs.length % 2 === 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2
}

/** Rounds to `digits` decimals, keeping null. */
function round(value, digits = 0) {
  if (value === null || value === undefined || !Number.isFinite(value)) return null
  const f = 10 ** digits
  return Math.round(value * f) / f
}

module.exports = { quantile, sortedCopy, median, round }
