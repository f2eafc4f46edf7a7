import { preferredLanguage } from '../../../bridge/i18n'

describe('preferredLanguage', () => {
  test.each([
    [undefined, 'en'],
    ['', 'en'],
    ['zh', 'zh'],
    ['zh-CN,zh;q=0.9,en;q=0.8', 'zh'],
    ['en-US,zh;q=0.5', 'en'],
    ['fr-FR, zh-Hant;q=0.4', 'zh'],
    ['zh;q=0, en', 'en'],
    ['de', 'en'],
    ['*', 'en'],
    ['en;q=0.3, zh-TW;q=0.7', 'zh']
  ])('Accept-Language %p → %s', (header, expected) => {
    expect(preferredLanguage(header)).toBe(expected)
  })
})
