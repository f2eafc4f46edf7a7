import type { Browser, Page } from 'playwright-core'
import { uniqueId } from '../helpers/fixtures'
import { startTestHub, type TestHub, type TestUser } from '../helpers/hub'
import { launchChromium, missingForE2e, newConsoleContext, onPage } from './browser'

const ADMIN_KEY = 'e2e-admin-key-0123456789abcdef0123456789'
/** Signals reach every node on the same Redis server (and its live feed): a strategy no other suite uses. */
const STRATEGY = uniqueId('trend-')
const STEP_MS = 60_000
const missing = missingForE2e()

/** POSTs a signal straight to the hub's REST API, as a publisher's program would. */
async function postSignal(hub: TestHub, publisher: TestUser, signal: Record<string, unknown>): Promise<{ seq: number }> {
  const res = await fetch(`${hub.baseUrl}/api/v1/signals`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${publisher.key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ strategy_id: STRATEGY, execute_date: '2026-11-21T09:30:00+08:00', ...signal })
  })
  if (res.status !== 201) throw new Error(`POST /signals answered ${res.status}: ${await res.text()}`)
  return await res.json() as { seq: number }
}

async function signIn(page: Page, base: string, key: string): Promise<void> {
  await page.goto(`${base}/console/`)
  await page.locator('input[name=key]').fill(key)
  await page.locator('button[type=submit]').click()
  await page.locator('[data-testid=who]').waitFor()
}

async function keyAnswers(hub: TestHub, key: string): Promise<number> {
  return (await fetch(`${hub.baseUrl}/api/v1/me`, { headers: { Authorization: `Bearer ${key}` } })).status
}

if (missing !== null && process.env.CI !== undefined) {
  test('web console end to end: prerequisites', () => {
    throw new Error(`the browser suite cannot run in CI: ${missing}`)
  })
} else if (missing !== null) {
  test.skip(`web console end to end (skipped: ${missing})`, () => undefined)
} else {
  describe('web console in Chromium', () => {
    let hub: TestHub
    let front: { baseUrl: string }
    let browser: Browser
    let publisher: TestUser
    let subscriber: TestUser

    beforeAll(async () => {
      hub = await startTestHub({ BOOTSTRAP_ADMIN_KEY: ADMIN_KEY })
      publisher = await hub.user('pat', 'publisher')
      subscriber = await hub.user('sam', 'subscriber')
      await hub.strategy(STRATEGY, publisher)
      await hub.subscribe(subscriber, STRATEGY)
      front = { baseUrl: hub.baseUrl }
      browser = await launchChromium()
    }, STEP_MS)

    afterAll(async () => {
      await browser?.close().catch(() => undefined)
      await hub?.shutdown()
    }, STEP_MS)

    test('a subscriber signs in, sees a signal posted over REST arrive live, and signing out forgets the key', async () => {
      const context = await newConsoleContext(browser)
      await onPage(context, 'live-feed', async (page) => {
        await signIn(page, front.baseUrl, subscriber.key)
        await page.locator('[data-testid=connection][data-state=connected]').waitFor()
        expect(await page.locator('nav [data-tab]').evaluateAll((tabs) => tabs.map((t) => t.getAttribute('data-tab')))).toEqual(['feed', 'history', 'subscriptions', 'reports'])
        await page.locator('[data-testid=topics]', { hasText: '1 topic' }).waitFor()
        const stored = await postSignal(hub, publisher, { symbol: 'AAPL', type: 'buy', description: 'live over rest' })
        const card = page.locator(`[data-testid=signal][data-seq="${stored.seq}"]`)
        await card.waitFor()
        expect(await card.textContent()).toContain('live over rest')
        expect(await page.evaluate('Object.values(sessionStorage)')).toEqual([subscriber.key])
        await page.locator('[data-testid=sign-out]').click()
        await page.locator('input[name=key]').waitFor()
        expect(await page.evaluate('sessionStorage.length')).toBe(0)
      })
      await context.close()
    }, STEP_MS)

    test('a signal the browser missed is filled in from history when the next one shows a gap in seq', async () => {
      const context = await newConsoleContext(browser)
      await onPage(context, 'gap-fill', async (page) => {
        await signIn(page, front.baseUrl, subscriber.key)
        await page.locator('[data-testid=connection][data-state=connected]').waitFor()
        await page.locator('[data-testid=topics]', { hasText: '1 topic' }).waitFor()
        // stored but never handed to the broker: the browser can only learn of it from history
        hub.core.signals.setSink({ publish: async () => undefined })
        const missed = await postSignal(hub, publisher, { symbol: 'NVDA', type: 'buy', description: 'never delivered live' }).finally(() => hub.core.signals.setSink(hub.broker.sink))
        const next = await postSignal(hub, publisher, { symbol: 'NVDA', type: 'sell', description: 'delivered live' })
        await page.locator(`[data-testid=signal][data-seq="${next.seq}"]`).waitFor()
        const filled = page.locator(`[data-testid=signal][data-seq="${missed.seq}"]`)
        await filled.waitFor()
        expect(await filled.textContent()).toContain('never delivered live')
        await page.locator('[data-testid=gap-filled]').waitFor()
      })
      await context.close()
    }, STEP_MS)

    test('a publisher publishes from the form; the API\'s validation message shows next to the field', async () => {
      const context = await newConsoleContext(browser)
      await onPage(context, 'publish-form', async (page) => {
        await signIn(page, front.baseUrl, publisher.key)
        await page.locator('[data-tab=publish]').click()
        const form = page.locator('[data-testid=publish-form]')
        await form.locator('input[name=symbol]').fill('BAD SYMBOL')
        await form.locator('button[type=submit]').click()
        const symbolError = form.locator('[data-field=symbol] .field-error')
        await symbolError.waitFor()
        expect(await symbolError.textContent()).toMatch(/characters/)
        await form.locator('input[name=symbol]').fill('MSFT')
        await form.locator('input[name=type]').fill('sell')
        await form.locator('input[name=description]').fill('from the form')
        await form.locator('textarea[name=payload]').fill('{"price": 420.5}')
        await form.locator('button[type=submit]').click()
        await page.locator('[data-testid=published]').waitFor()
        expect(await form.locator('.field-error').count()).toBe(0)
        await page.locator('[data-tab=feed]').click()
        await page.locator('[data-testid=signal]', { hasText: 'from the form' }).waitFor()
      })
      await context.close()
      const history = await fetch(`${hub.baseUrl}/api/v1/signals?strategy_id=${STRATEGY}&symbol=MSFT`, { headers: { Authorization: `Bearer ${publisher.key}` } })
      const body = await history.json() as { data: { description: string, payload: unknown }[] }
      expect(body.data).toEqual([expect.objectContaining({ description: 'from the form', payload: { price: 420.5 } })])
    }, STEP_MS)

    test('the language follows the browser, switches between Chinese and English, and API errors come back in it', async () => {
      const context = await newConsoleContext(browser, { locale: 'zh-CN' })
      await onPage(context, 'language', async (page) => {
        await page.goto(`${front.baseUrl}/console/`)
        await page.locator('h1', { hasText: '登录 Signal Hub' }).waitFor()
        await page.locator('input[name=key]').fill('not-a-key')
        await page.locator('button[type=submit]').click()
        await page.locator('.note-error', { hasText: 'API 密钥缺失或无效' }).waitFor()
        await page.locator('[data-testid=language]').selectOption('en')
        await page.locator('h1', { hasText: 'Sign in to Signal Hub' }).waitFor()
        await page.locator('input[name=key]').fill(subscriber.key)
        await page.locator('button[type=submit]').click()
        await page.locator('[data-tab=feed]', { hasText: 'Live' }).waitFor()
        await page.locator('[data-testid=language]').selectOption('zh')
        await page.locator('[data-tab=feed]', { hasText: '实时' }).waitFor()
        expect(await page.locator('[data-testid=zone]').textContent()).toContain('Asia/Shanghai')
        expect(await page.evaluate('document.documentElement.lang')).toBe('zh-CN')
      })
      await context.close()
    }, STEP_MS)

    test('an admin creates a key for a user, sees it once with a copy button, and revokes it', async () => {
      const context = await newConsoleContext(browser)
      await onPage(context, 'admin-keys', async (page) => {
        await signIn(page, front.baseUrl, ADMIN_KEY)
        await page.locator('[data-tab=users]').click()
        await page.locator('[data-testid=user-row][data-user=sam] button', { hasText: 'Keys' }).click()
        const panel = page.locator('[data-testid=keys-panel]')
        await panel.locator('button', { hasText: 'Create key' }).click()
        const secret = panel.locator('[data-testid=issued-secret]')
        await secret.waitFor()
        const key = (await secret.textContent()) ?? ''
        expect(await panel.locator('[data-testid=issued-key] button', { hasText: 'Copy' }).count()).toBe(1)
        expect(await keyAnswers(hub, key)).toBe(200)
        await panel.locator('button', { hasText: 'Done' }).click()
        expect(await page.content()).not.toContain(key)
        const prefix = key.split('_')[1]
        const revoked = panel.locator(`[data-testid=key-row][data-prefix="${prefix}"]`)
        await revoked.locator('button', { hasText: 'Revoke' }).click()
        await revoked.locator('button', { hasText: 'Confirm revoke' }).click()
        await panel.locator(`[data-testid=key-row][data-prefix="${prefix}"][data-status=revoked]`).waitFor()
        expect(await keyAnswers(hub, key)).toBe(401)
        expect(await keyAnswers(hub, subscriber.key)).toBe(200)
      })
      await context.close()
    }, STEP_MS)
  })
}
