import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import express from 'express'
import { errorHandler } from '../../../bridge/middleware/error-handler'
import { notFound } from '../../../bridge/middleware/not-found'
import { requestId } from '../../../bridge/middleware/request-id'
import { consoleRouter, projectRoot } from '../../../bridge/routes/console.routes'

const INDEX = '<!doctype html><html><head><script type="module" src="/console/assets/index-abc123.js"></script></head><body><div id="root"></div></body></html>'

interface Served {
  baseUrl: string
  close(): Promise<void>
}

/** The console router mounted the way the bridge mounts it: at /console, before the 404 and the error renderer. */
async function serve(distDir: string): Promise<Served> {
  const app = express()
  app.use(requestId)
  app.use('/console', consoleRouter({ distDir }))
  app.use(notFound)
  app.use(errorHandler)
  const server: Server = createServer(app)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) })
  }
}

let dist: string
let built: Served
beforeAll(async () => {
  dist = await mkdtemp(join(tmpdir(), 'console-dist-'))
  await mkdir(join(dist, 'assets'))
  await writeFile(join(dist, 'index.html'), INDEX)
  await writeFile(join(dist, 'assets', 'index-abc123.js'), 'console.log("console")')
  await writeFile(join(dist, 'assets', 'index-abc123.css'), 'body{margin:0}')
  built = await serve(dist)
})
afterAll(async () => {
  await built.close()
  await rm(dist, { recursive: true, force: true })
})

describe('console router, built', () => {
  test('GET /console/ answers index.html, revalidated on every load', async () => {
    const res = await fetch(`${built.baseUrl}/console/`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    expect(res.headers.get('cache-control')).toBe('no-cache')
    expect(await res.text()).toBe(INDEX)
  })

  test('GET /console without a slash answers index.html too', async () => {
    const res = await fetch(`${built.baseUrl}/console`)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe(INDEX)
  })

  test('hashed assets are served with their type and cached for good', async () => {
    const js = await fetch(`${built.baseUrl}/console/assets/index-abc123.js`)
    expect(js.status).toBe(200)
    expect(js.headers.get('content-type')).toMatch(/javascript/)
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    const css = await fetch(`${built.baseUrl}/console/assets/index-abc123.css`)
    expect(css.headers.get('content-type')).toMatch(/^text\/css/)
  })

  test('a console route the browser handles (deep link) falls back to index.html', async () => {
    const res = await fetch(`${built.baseUrl}/console/history?strategy=trend-1`)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe(INDEX)
  })

  test('a missing asset is a 404 problem, not index.html', async () => {
    const res = await fetch(`${built.baseUrl}/console/assets/gone-000.js`)
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/)
  })

  test('a POST to the console is not answered with the page', async () => {
    const res = await fetch(`${built.baseUrl}/console/`, { method: 'POST' })
    expect(res.status).toBe(404)
  })

  test('a path escaping the folder is refused', async () => {
    const res = await fetch(`${built.baseUrl}/console/%2e%2e/%2e%2e/package.json`)
    expect(res.status).not.toBe(200)
  })
})

describe('console router, not built', () => {
  test('/console answers 503 problem+json telling to run npm run build, in the caller\'s language', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'console-none-'))
    const served = await serve(join(empty, 'dist'))
    try {
      const res = await fetch(`${served.baseUrl}/console/feed`)
      expect(res.status).toBe(503)
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/)
      const body = await res.json() as { code: string, detail: string }
      expect(body.code).toBe('service_unavailable')
      expect(body.detail).toContain('npm run build')
      const zh = await fetch(`${served.baseUrl}/console/`, { headers: { 'Accept-Language': 'zh-CN' } })
      expect(((await zh.json()) as { title: string }).title).toBe('服务暂不可用')
    } finally {
      await served.close()
      await rm(empty, { recursive: true, force: true })
    }
  })
})

describe('projectRoot', () => {
  test('finds the folder holding package.json above a source folder', () => {
    const root = projectRoot(join(__dirname, 'a', 'b'))
    expect(root).toBe(join(__dirname, '..', '..', '..'))
  })
})
