import { once } from 'node:events'
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { coalesceWrites } from '../../../../broker/listeners/coalesce-writes'

/** A connected socket pair on loopback: `near` writes through coalesceWrites, `far` is the peer. */
interface Pair {
  near: Socket
  far: Socket
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('coalesceWrites', () => {
  let server: Server
  const open: Socket[] = []

  beforeAll(async () => {
    server = createServer()
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
  })
  afterEach(() => {
    for (const socket of open.splice(0)) socket.destroy()
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  async function pair(): Promise<Pair> {
    const accepted = once(server, 'connection') as Promise<[Socket]>
    const far = connect((server.address() as AddressInfo).port, '127.0.0.1')
    await once(far, 'connect')
    const [near] = await accepted
    near.setNoDelay(true)
    coalesceWrites(near)
    open.push(near, far)
    return { near, far }
  }

  /** Reads everything `far` receives until `near` has written `total` bytes' worth. */
  async function readAll(far: Socket, total: number): Promise<Buffer> {
    const chunks: Buffer[] = []
    let received = 0
    far.on('data', (d: Buffer) => {
      chunks.push(d)
      received += d.length
    })
    far.resume()
    while (received < total) await once(far, 'data')
    return Buffer.concat(chunks)
  }

  test('write, a turn that gathers far more than the high-water mark on an idle socket, reports no congestion and sends it all in order', async () => {
    const { near, far } = await pair()
    far.pause()
    const results: boolean[] = []
    for (let i = 0; i < 8; i++) results.push(near.write(Buffer.alloc(near.writableHighWaterMark, i)))
    expect(near.writableCorked).toBe(1)
    expect(near.writableLength).toBeGreaterThanOrEqual(8 * near.writableHighWaterMark)
    expect(results).toEqual(Array(8).fill(true))

    const received = await readAll(far, 8 * near.writableHighWaterMark)
    expect(received.length).toBe(8 * near.writableHighWaterMark)
    for (let i = 0; i < 8; i++) expect(received[i * near.writableHighWaterMark]).toBe(i)
    expect(near.writableCorked).toBe(0)
  })

  test('write, a peer that stops reading, returns false from the first turn that begins with a high-water mark unsent, and drains once the peer reads', async () => {
    const { near, far } = await pair()
    far.pause()
    const hwm = near.writableHighWaterMark
    const chunk = 256 * 1024
    const turns: Array<{ unsentAtStart: number, first: boolean, second: boolean }> = []
    let written = 0
    // a loopback connection absorbs a few MiB in kernel buffers before anything stays unsent
    for (let turn = 0; turn < 400; turn++) {
      const unsentAtStart = near.writableLength
      const first = near.write(Buffer.alloc(chunk, turn % 256))
      const second = near.write(Buffer.alloc(16, turn % 256))
      written += chunk + 16
      turns.push({ unsentAtStart, first, second })
      if (!first) break
      await nextTurn()
    }
    const congested = turns[turns.length - 1]
    expect(congested.first).toBe(false)
    expect(congested.second).toBe(false)
    expect(congested.unsentAtStart).toBeGreaterThanOrEqual(hwm)
    for (const t of turns) expect(t.first).toBe(t.unsentAtStart < hwm)

    const drained = once(near, 'drain')
    const received = await readAll(far, written)
    await drained
    expect(received.length).toBe(written)
    turns.forEach((_t, turn) => {
      const start = turn * (chunk + 16)
      expect([received[start], received[start + chunk - 1], received[start + chunk + 15]]).toEqual(Array(3).fill(turn % 256))
    })
  })

  test('write, after the socket is destroyed in the middle of a turn, neither throws nor sends, and reports the failure to the callback', async () => {
    const { near, far } = await pair()
    const errors: Error[] = []
    near.on('error', (err: Error) => errors.push(err))
    const received: Buffer[] = []
    far.on('data', (d: Buffer) => received.push(d))
    const farClosed = once(far, 'close')

    near.write(Buffer.from('gathered in this turn'))
    near.destroy()
    const failed = new Promise<Error | null | undefined>((resolve) => near.write(Buffer.from('after destroy'), resolve))
    expect(await failed).toMatchObject({ code: 'ERR_STREAM_DESTROYED' })
    await nextTurn()
    const later = new Promise<Error | null | undefined>((resolve) => near.write(Buffer.from('a later turn'), resolve))
    expect(await later).toMatchObject({ code: 'ERR_STREAM_DESTROYED' })
    await nextTurn()

    await farClosed
    expect(Buffer.concat(received).length).toBe(0)
    expect(errors).toEqual([])
  })
})
