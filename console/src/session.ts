/** The API key lives in sessionStorage only: this tab, until sign-out or the tab closes. */
const KEY = 'signalhub.console.key'

export function loadSessionKey(): string | null {
  return sessionStorage.getItem(KEY)
}

export function saveSessionKey(key: string): void {
  sessionStorage.setItem(KEY, key)
}

export function clearSessionKey(): void {
  sessionStorage.removeItem(KEY)
}
