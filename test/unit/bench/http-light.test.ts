import { Buffer } from 'node:buffer'
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http'
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { HttpConnection, parseResponse, postBytes } from '../../../bench/http-light'

function listening<T extends Server | HttpServer>(server: T): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)))
}

function closing(server: Server | HttpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()))
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString()
}

describe('http-light: the HTTP client of the load generators', () => {
  test('parseResponse cuts responses by Content-Length and by chunks, whatever the split', () => {
    const byLength = Buffer.from('HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}')
    const chunked = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"a"\r\n3\r\n:1}\r\n0\r\n\r\n')
    const noBody = Buffer.from('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n')
    const stream = Buffer.concat([byLength, chunked, noBody, byLength])
    for (let cut = 0; cut <= stream.length; cut++) {
      const seen: Array<[number, string, boolean]> = []
      let buffer = Buffer.alloc(0)
      for (const piece of [stream.subarray(0, cut), stream.subarray(cut)]) {
        buffer = Buffer.concat([buffer, piece])
        for (let r = parseResponse(buffer); r !== null; r = parseResponse(buffer)) {
          seen.push([r.status, r.body.toString(), r.close])
          buffer = buffer.subarray(r.used)
        }
      }
      expect(seen).toEqual([[201, '{"ok":true}', false], [200, '{"a":1}', false], [204, '', true], [201, '{"ok":true}', false]])
    }
  })

  test('parseResponse refuses what is not HTTP', () => {
    expect(() => parseResponse(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n'))).toThrow(/not an HTTP response/)
  })

  describe('against a Node HTTP server', () => {
    let server: HttpServer
    let port: number
    const received: string[] = []

    beforeAll(async () => {
      server = createHttpServer((req, res) => {
        void bodyOf(req).then((body) => {
          received.push(`${req.method} ${req.url} ${req.headers['content-type']} ${req.headers.authorization} ${body}`)
          if (req.url === '/chunked') {
            res.write('{"part":')
            res.end('2}')
            return
          }
          if (req.url === '/close') res.setHeader('Connection', 'close')
          res.statusCode = req.url === '/missing' ? 404 : 201
          res.setHeader('Content-Type', 'application/json')
          res.end(JSON.stringify({ echo: body.length }))
        })
      })
      port = await listening(server)
    })
    afterAll(() => closing(server))

    test('sends POSTs back to back on one connection and reads each answer', async () => {
      const connection = new HttpConnection('127.0.0.1', port)
      try {
        const bytes = postBytes('127.0.0.1', port, '/signals', { Authorization: 'Bearer k' }, '{"x":1}')
        for (let i = 0; i < 3; i++) {
          const res = await connection.request(bytes)
          expect(res.status).toBe(201)
          expect(JSON.parse(res.body.toString())).toEqual({ echo: 7 })
        }
        expect((await connection.request(postBytes('127.0.0.1', port, '/missing', {}, '{}'))).status).toBe(404)
        expect((await connection.request(postBytes('127.0.0.1', port, '/chunked', {}, '{}'))).body.toString()).toBe('{"part":2}')
        expect(received.slice(0, 3)).toEqual(Array(3).fill('POST /signals application/json Bearer k {"x":1}'))
      } finally {
        connection.close()
      }
    })

    test('opens a new connection after the server closed the last one', async () => {
      const connection = new HttpConnection('127.0.0.1', port)
      try {
        expect((await connection.request(postBytes('127.0.0.1', port, '/close', {}, '{}'))).status).toBe(201)
        expect((await connection.request(postBytes('127.0.0.1', port, '/again', {}, '{}'))).status).toBe(201)
      } finally {
        connection.close()
      }
    })
  })

  test('a response cut off by the server fails the request; a refused connection fails at once', async () => {
    const sockets: Socket[] = []
    const server = createServer((socket) => {
      sockets.push(socket)
      socket.once('data', () => socket.end('HTTP/1.1 201 Created\r\nContent-Length: 50\r\n\r\n{"short'))
    })
    const port = await listening(server)
    const connection = new HttpConnection('127.0.0.1', port)
    try {
      await expect(connection.request(postBytes('127.0.0.1', port, '/', {}, '{}'))).rejects.toThrow(/closed the connection/)
    } finally {
      connection.close()
      for (const s of sockets) s.destroy()
      await closing(server)
    }
    await expect(new HttpConnection('127.0.0.1', port).request(postBytes('127.0.0.1', port, '/', {}, '{}'))).rejects.toThrow(/ECONNREFUSED/)
  })
})
