import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express, { type ErrorRequestHandler, type RequestHandler } from 'express'
import { directListener, expressServerClasses } from '../../../bridge/direct-route'

describe('directListener: one route served without the router', () => {
  let server: Server
  let plain: Server
  let base: string
  let plainBase: string
  let mode = 'ok'
  const calls: string[] = []

  beforeAll(async () => {
    const app = express()
    app.disable('x-powered-by')
    app.use((req, res) => { res.status(299).json({ from: 'app', method: req.method, url: req.originalUrl }) })
    const first: RequestHandler = (req, res, next) => {
      calls.push(`first ${String(req.app === app)} ${JSON.stringify(res.locals)}`)
      res.setHeader('X-First', req.get('x-in') ?? 'none')
      next()
    }
    const second: RequestHandler = async (_req, res, next) => {
      await new Promise((resolve) => setImmediate(resolve))
      if (mode === 'reject') throw new Error('rejected')
      if (mode === 'next-error') { next(new Error('passed on')); return }
      if (mode === 'next-route') { next('route'); return }
      if (mode === 'sent-then-error') { res.status(200).write('partial'); next(new Error('late')); return }
      next()
    }
    const last: RequestHandler = (req, res, next) => {
      if (mode === 'throw') throw new Error('thrown')
      if (mode === 'no-answer') { next(); return }
      res.status(201).json({ from: 'direct', route: res.locals.routeTemplate, params: req.params })
    }
    const onError: ErrorRequestHandler = (err: Error, _req, res, next) => {
      if (res.headersSent) { next(err); return }
      res.status(418).json({ error: err.message })
    }
    const route = { method: 'POST', path: '/x', handlers: [first, second, last], onError }
    const classes = expressServerClasses(app)
    server = createServer(classes, directListener(app, route, classes))
    // a server without the classes: the listener gives the objects their prototypes itself
    plain = createServer(directListener(app, route))
    for (const s of [server, plain]) await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    plainBase = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    for (const s of [server, plain]) await new Promise<void>((resolve) => s.close(() => resolve()))
  })
  beforeEach(() => { mode = 'ok'; calls.length = 0 })

  const post = (path: string, headers: Record<string, string> = {}): Promise<Response> => fetch(`${base}${path}`, { method: 'POST', headers, body: '{}' })

  test.each([['made with the classes', true], ['made without them', false]])('runs the handlers in order with Express request and response objects (%s)', async (_name, withClasses) => {
    const res = await fetch(`${withClasses ? base : plainBase}/x`, { method: 'POST', headers: { 'x-in': 'hello' }, body: '{}' })
    expect(res.status).toBe(201)
    expect(res.headers.get('x-first')).toBe('hello')
    expect(await res.json()).toEqual({ from: 'direct', route: '/x', params: {} })
    expect(calls).toEqual(['first true {"routeTemplate":"/x"}'])
  })

  test.each([['GET', '/x'], ['POST', '/x?a=1'], ['POST', '/x/'], ['POST', '/y'], ['POST', '/X']])('hands %s %s to the app', async (method, path) => {
    const res = await fetch(`${base}${path}`, { method, body: method === 'GET' ? undefined : '{}' })
    expect(res.status).toBe(299)
    expect(await res.json()).toMatchObject({ from: 'app', method, url: path })
    expect(calls).toEqual([])
  })

  test.each([['throw', 'thrown'], ['reject', 'rejected'], ['next-error', 'passed on'], ['next-route', "next('route') is not supported on POST /x"], ['no-answer', 'no handler answered POST /x']])(
    'an error (%s) goes to the error handler', async (how, message) => {
      mode = how
      const res = await post('/x')
      expect(res.status).toBe(418)
      expect(await res.json()).toEqual({ error: message })
    })

  test('an error after the response started closes the connection', async () => {
    mode = 'sent-then-error'
    await expect(post('/x').then(async (res) => await res.text())).rejects.toThrow()
  })
})
