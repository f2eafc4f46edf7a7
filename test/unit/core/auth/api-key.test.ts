import { generateApiKey, hashApiKey, keyMatchesHash, prefixOf } from '../../../../core/auth/api-key'

describe('api keys', () => {
  test('generateApiKey gives a key whose embedded prefix finds it and whose hash verifies', () => {
    const { key, prefix, hash } = generateApiKey()
    expect(key).toMatch(/^shk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/)
    expect(prefixOf(key)).toBe(prefix)
    expect(hash).toBe(hashApiKey(key))
    expect(keyMatchesHash(key, hash)).toBe(true)
  })

  test('generateApiKey called many times never repeats a key or a prefix', () => {
    const keys = new Set<string>()
    const prefixes = new Set<string>()
    for (let i = 0; i < 2000; i++) {
      const g = generateApiKey()
      keys.add(g.key)
      prefixes.add(g.prefix)
    }
    expect(keys.size).toBe(2000)
    expect(prefixes.size).toBe(2000)
  })

  test('keyMatchesHash with a key differing in one character is false', () => {
    const { key, hash } = generateApiKey()
    const last = key.at(-1) === 'A' ? 'B' : 'A'
    expect(keyMatchesHash(key.slice(0, -1) + last, hash)).toBe(false)
  })

  test('keyMatchesHash with a malformed stored hash is false rather than throwing', () => {
    expect(keyMatchesHash('anything', 'not-hex')).toBe(false)
  })

  test('prefixOf an operator-chosen key derives a stable prefix that does not reveal the key', () => {
    const operatorKey = 'my-own-admin-key-of-at-least-32-characters'
    const prefix = prefixOf(operatorKey)
    expect(prefix).toMatch(/^x[0-9a-f]{11}$/)
    expect(prefixOf(operatorKey)).toBe(prefix)
    expect(operatorKey).not.toContain(prefix.slice(1))
  })
})
