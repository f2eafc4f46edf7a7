'use strict'
/**
 * A minimal HTTP/1.1 keep-alive client for the load generators. Each connection carries
 * one request at a time; a request goes out as ready-made bytes, and a response is cut
 * out of the stream by its Content-Length (or its chunks) without building a message
 * object, a header map and a few events per response. Node's http client spends more CPU
 * per request than the Express hello-world route does to answer it, and on a 2-core
 * machine that CPU comes out of the share of the server under test.
 */
const net = require('node:net')
const { Buffer } = require('node:buffer')

const HEAD_END = Buffer.from('\r\n\r\n')
const CRLF = Buffer.from('\r\n')

/** The bytes of a POST with a JSON body (`body`: string or Buffer). */
function postBytes(host, port, path, headers, body) {
  const payload = Buffer.isBuffer(body) ? body : Buffer.from(body)
  let head = `POST ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\n`
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`
  head += `Content-Type: application/json\r\nContent-Length: ${payload.length}\r\n\r\n`
  return Buffer.concat([Buffer.from(head, 'latin1'), payload])
}

/**
 * Reads one response from the front of `buffer`. Returns `{ status, body, used }` (used =
 * bytes consumed), `null` when more bytes are needed, or throws on a malformed response.
 */
function parseResponse(buffer) {
  const headEnd = buffer.indexOf(HEAD_END)
  if (headEnd === -1) return null
  const head = buffer.toString('latin1', 0, headEnd)
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)
  if (status === null) throw new Error(`not an HTTP response: ${JSON.stringify(head.slice(0, 40))}`)
  const lower = head.toLowerCase()
  const length = /\r\ncontent-length:[ \t]*(\d+)/.exec(lower)
  const bodyStart = headEnd + HEAD_END.length
  const close = /\r\nconnection:[ \t]*close/.test(lower)
  if (length !== null) {
    const end = bodyStart + Number(length[1])
    if (buffer.length < end) return null
    return { status: Number(status[1]), body: buffer.subarray(bodyStart, end), used: end, close }
  }
  if (/\r\ntransfer-encoding:[ \t]*chunked/.test(lower)) {
    const parts = []
    let at = bodyStart
    for (;;) {
      const lineEnd = buffer.indexOf(CRLF, at)
      if (lineEnd === -1) return null
      const size = parseInt(buffer.toString('latin1', at, lineEnd), 16)
      if (Number.isNaN(size)) throw new Error('malformed chunk size')
      const dataEnd = lineEnd + 2 + size
      if (buffer.length < dataEnd + 2) return null
      if (size === 0) {
        // no trailers expected: the chunk of size 0 is followed by the final CRLF
        return { status: Number(status[1]), body: Buffer.concat(parts), used: dataEnd + 2, close }
      }
      parts.push(buffer.subarray(lineEnd + 2, dataEnd))
      at = dataEnd + 2
    }
  }
  // no length and not chunked: only a status without a body (204, 304) is expected here
  return { status: Number(status[1]), body: Buffer.alloc(0), used: bodyStart, close }
}

/** One keep-alive connection; `request(bytes)` resolves `{ status, body }`, reconnecting when the server closed it. */
class HttpConnection {
  constructor(host, port) {
    this.host = host
    this.port = port
    this.socket = null
    this.buffer = Buffer.alloc(0)
    this.waiting = null
  }

  connect() {
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.port, this.host)
      socket.setNoDelay(true)
      const onError = (err) => {
        socket.destroy()
        reject(err)
      }
      socket.once('error', onError)
      socket.once('connect', () => {
        socket.off('error', onError)
        socket.on('error', (err) => this.fail(err))
        socket.on('close', () => {
          if (this.socket === socket) this.socket = null
          this.fail(new Error('the server closed the connection'))
        })
        socket.on('data', (chunk) => this.onData(chunk))
        this.socket = socket
        this.buffer = Buffer.alloc(0)
        resolve()
      })
    })
  }

  async request(bytes) {
    if (this.waiting !== null) throw new Error('one request at a time per connection')
    if (this.socket === null) await this.connect()
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject }
      this.socket.write(bytes)
    })
  }

  close() {
    this.socket?.destroy()
    this.socket = null
  }

  onData(chunk) {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk])
    let response
    try {
      response = parseResponse(this.buffer)
    } catch (err) {
      this.fail(err)
      this.close()
      return
    }
    if (response === null) return
    this.buffer = this.buffer.subarray(response.used)
    const waiting = this.waiting
    this.waiting = null
    if (response.close) this.close()
    waiting?.resolve({ status: response.status, body: response.body })
  }

  fail(err) {
    const waiting = this.waiting
    this.waiting = null
    waiting?.reject(err)
  }
}

module.exports = { HttpConnection, postBytes, parseResponse }
