/** Languages problem titles are written in; English unless the client prefers Chinese. */
export type Language = 'en' | 'zh'

/**
 * The language of `Accept-Language` (RFC 9110 §12.5.4) we can answer in: the supported
 * tag with the highest quality, ties to the one listed first; English by default.
 */
export function preferredLanguage(header: string | undefined): Language {
  if (header === undefined || header === '') return 'en'
  let best: { lang: Language, q: number } = { lang: 'en', q: 0 }
  for (const part of header.split(',')) {
    const [tag, ...params] = part.trim().toLowerCase().split(';')
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    const q = qParam === undefined ? 1 : Number(qParam.slice(2))
    if (!Number.isFinite(q) || q <= 0) continue
    const lang: Language | null = tag === 'zh' || tag.startsWith('zh-') ? 'zh' : tag === 'en' || tag.startsWith('en-') || tag === '*' ? 'en' : null
    if (lang !== null && q > best.q) best = { lang, q }
  }
  return best.lang
}
