import type { ReactNode } from 'react'
import { useI18n, type Language } from './i18n/i18n'

export function LanguageSwitch(): ReactNode {
  const { language, setLanguage, t } = useI18n()
  return (
    <label className="language-switch">
      <span className="sr-only">{t('app.language')}</span>
      <select aria-label={t('app.language')} value={language} onChange={(e) => setLanguage(e.target.value as Language)} data-testid="language">
        <option value="en">English</option>
        <option value="zh">中文</option>
      </select>
    </label>
  )
}
