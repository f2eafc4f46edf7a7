import { decodeNumericCursor, decodeStringCursor, encodeCursor, pageLimit, toPage } from '../../../core/pagination'

describe('pagination', () => {
  test('a cursor round-trips numeric and string keys', () => {
    expect(decodeNumericCursor(encodeCursor(42))).toBe(42)
    expect(decodeStringCursor(encodeCursor('alpha.1'))).toBe('alpha.1')
    expect(decodeNumericCursor(undefined)).toBeUndefined()
  })

  test('a forged or foreign cursor is a validation failure', () => {
    expect(() => decodeNumericCursor('abc')).toThrow(expect.objectContaining({ code: 'validation_failed' }))
    expect(() => decodeNumericCursor(encodeCursor('x'))).toThrow(expect.objectContaining({ code: 'validation_failed' }))
    expect(() => decodeStringCursor(Buffer.from('k:').toString('base64url'))).toThrow(expect.objectContaining({ code: 'validation_failed' }))
  })

  test('toPage keeps limit rows and points the cursor at the last one shown', () => {
    const page = toPage([1, 2, 3], 2, (n) => n, (n) => n * 10)
    expect(page.data).toEqual([10, 20])
    expect(decodeNumericCursor(page.next_cursor ?? undefined)).toBe(2)
    expect(toPage([1, 2], 2, (n) => n, (n) => n).next_cursor).toBeNull()
  })

  test('pageLimit clamps to 1..500 with a default of 50', () => {
    expect(pageLimit({})).toBe(50)
    expect(pageLimit({ limit: 0 })).toBe(1)
    expect(pageLimit({ limit: 9999 })).toBe(500)
  })
})
