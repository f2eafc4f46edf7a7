import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { projectRoot } from '../../bridge/routes/console.routes'

/** Debian's Chromium (`apt-get install chromium`); CHROMIUM_PATH overrides. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const CONSOLE_INDEX = join(projectRoot(__dirname), 'console', 'dist', 'index.html')
export const ARTIFACTS = join(__dirname, 'artifacts')

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** Why the browser suite cannot run here, or null when it can. */
export function missingForE2e(): string | null {
  if (!existsSync(CHROMIUM_PATH)) return `no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium)`
  if (!existsSync(CONSOLE_INDEX)) return 'the console is not built (npm run build)'
  return null
}

/** Headless Chromium; Playwright gives every launch a fresh temporary profile (user-data-dir). */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ARGS, timeout: 30_000 })
}

export interface ContextOptions {
  locale?: string
  viewport?: { width: number, height: number }
}

export async function newConsoleContext(browser: Browser, options: ContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext({
    locale: options.locale ?? 'en-US',
    timezoneId: 'Asia/Shanghai',
    viewport: options.viewport ?? { width: 1280, height: 800 },
    serviceWorkers: 'block'
  })
  context.setDefaultTimeout(15_000)
  return context
}

/** Runs a scenario on a new page; on failure saves a full-page screenshot to test/e2e/artifacts/<name>.png. */
export async function onPage(context: BrowserContext, name: string, scenario: (page: Page) => Promise<void>): Promise<void> {
  const page = await context.newPage()
  const logs: string[] = []
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') logs.push(`${m.type()}: ${m.text()}`) })
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`))
  try {
    await scenario(page)
    const blocked = logs.filter((line) => line.includes('Content Security Policy'))
    if (blocked.length > 0) throw new Error(`the page broke its Content-Security-Policy:\n${blocked.join('\n')}`)
  } catch (err) {
    await mkdir(ARTIFACTS, { recursive: true })
    const file = join(ARTIFACTS, `${name.replace(/[^a-z0-9-]+/gi, '-')}.png`)
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined)
    if (err instanceof Error) err.message = `${err.message}\nscreenshot: ${file}${logs.length > 0 ? `\nbrowser console:\n${logs.join('\n')}` : ''}`
    throw err
  } finally {
    await page.close().catch(() => undefined)
  }
}
