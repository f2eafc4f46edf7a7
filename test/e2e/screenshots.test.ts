import { join } from 'node:path'
import { projectRoot } from '../../bridge/routes/console.routes'
import { startTestHub, type TestHub } from '../helpers/hub'
import { ARTIFACTS, launchChromium, missingForE2e, newConsoleContext, onPage } from './browser'

/**
 * Refreshes docs/console.png (desktop) and test/e2e/artifacts/console-phone.png:
 * `CONSOLE_SCREENSHOT=1 npx jest --coverage=false test/e2e/screenshots.test.ts`.
 * Skipped otherwise: it changes a tracked file.
 */
const enabled = process.env.CONSOLE_SCREENSHOT === '1' && missingForE2e() === null

const SIGNALS = [
  { symbol: 'AAPL', type: 'buy', description: 'Breakout above the 20-day high', payload: { price: 231.5, stop: 226 } },
  { symbol: 'MSFT', type: 'hold', description: 'Range-bound, keep position' },
  { symbol: 'TSLA', type: 'sell', description: 'Trend reversal on volume', payload: { price: 402.1 } },
  { symbol: '600519.SH', type: 'open', description: 'Golden cross on the 5/20-day averages', payload: { lots: 2 } }
]

;(enabled ? test : test.skip)('console screenshots: signed in, live feed with a few signals', async () => {
  const hub: TestHub = await startTestHub({ BOOTSTRAP_ADMIN_KEY: 'shot-admin-key-0123456789abcdef0123456789' })
  const front = { baseUrl: hub.baseUrl }
  const browser = await launchChromium()
  try {
    const owner = await hub.user('quant-desk', 'publisher')
    const reader = await hub.user('alice', 'subscriber')
    await hub.strategy('trend-1', owner)
    await hub.subscribe(reader, 'trend-1')
    for (const [size, file] of [[{ width: 1280, height: 760 }, join(projectRoot(__dirname), 'docs', 'console.png')], [{ width: 390, height: 844 }, join(ARTIFACTS, 'console-phone.png')]] as const) {
      const context = await newConsoleContext(browser, { viewport: size })
      await onPage(context, 'screenshot', async (page) => {
        await page.goto(`${front.baseUrl}/console/`)
        await page.locator('input[name=key]').fill(reader.key)
        await page.locator('button[type=submit]').click()
        await page.locator('[data-testid=connection][data-state=connected]').waitFor()
        await page.locator('[data-testid=topics]', { hasText: '1 topic' }).waitFor()
        for (const signal of SIGNALS) {
          const res = await fetch(`${hub.baseUrl}/api/v1/signals`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${owner.key}`, 'Content-Type': 'application/json' },
            body: JSON.stringify({ strategy_id: 'trend-1', execute_date: new Date().toISOString(), ...signal })
          })
          expect(res.status).toBe(201)
        }
        await page.locator('[data-testid=signal]').nth(SIGNALS.length - 1).waitFor()
        await page.screenshot({ path: file })
      })
      await context.close()
    }
  } finally {
    await browser.close()
    await hub.shutdown()
  }
}, 90_000)
