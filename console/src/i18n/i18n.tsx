import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react'
import { en, type MessageKey } from './messages-en'
import { zh } from './messages-zh'

export type Language = 'en' | 'zh'
export type Translate = (key: MessageKey, values?: Record<string, string | number>) => string

const TABLES: Record<Language, Record<MessageKey, string>> = { en, zh }
const STORAGE_KEY = 'signalhub.console.language'

/** The browser's preferred language we speak: Chinese for any zh-*, otherwise English. */
export function browserLanguage(languages: readonly string[] = navigator.languages ?? [navigator.language]): Language {
  for (const tag of languages) {
    const lower = tag.toLowerCase()
    if (lower === 'zh' || lower.startsWith('zh-')) return 'zh'
    if (lower === 'en' || lower.startsWith('en-')) return 'en'
  }
  return 'en'
}

export function translate(language: Language, key: MessageKey, values: Record<string, string | number> = {}): string {
  return TABLES[language][key].replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole))
}

/** The BCP 47 tag used for Intl formatting and Accept-Language. */
export function localeOf(language: Language): string {
  return language === 'zh' ? 'zh-CN' : 'en'
}

interface I18n {
  language: Language
  locale: string
  t: Translate
  setLanguage(language: Language): void
}

const I18nContext = createContext<I18n | null>(null)

function initialLanguage(): Language {
  const saved = localStorage.getItem(STORAGE_KEY)
  return saved === 'en' || saved === 'zh' ? saved : browserLanguage()
}

export function I18nProvider({ children }: { children: ReactNode }): ReactNode {
  const [language, setLanguage] = useState<Language>(initialLanguage)
  useEffect(() => {
    document.documentElement.lang = localeOf(language)
    localStorage.setItem(STORAGE_KEY, language)
  }, [language])
  const value = useMemo<I18n>(() => ({
    language,
    locale: localeOf(language),
    t: (key, values) => translate(language, key, values),
    setLanguage
  }), [language])
  return <I18nContext value={value}>{children}</I18nContext>
}

export function useI18n(): I18n {
  const value = useContext(I18nContext)
  if (value === null) throw new Error('useI18n outside I18nProvider')
  return value
}
