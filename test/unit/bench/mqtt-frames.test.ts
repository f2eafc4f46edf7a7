import { Buffer } from 'node:buffer'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { Aedes } from 'aedes'
import mqttPacket from 'mqtt-packet'
import { FrameReader, PublishWriter, readPublish, pubacks, writeLength, PUBLISH, PUBACK } from '../../../bench/mqtt-frames'
import { LightClient } from '../../../bench/mqtt-light'

/** Every packet in `stream`, through mqtt-packet's parser (the reference). */
function referencePackets(stream: Buffer): mqttPacket.Packet[] {
  const parser = mqttPacket.parser({ protocolVersion: 4 })
  const packets: mqttPacket.Packet[] = []
  parser.on('packet', (p) => packets.push(p))
  parser.parse(stream)
  return packets
}

function publishPacket(payloadBytes: number, qos: 0 | 1, messageId: number, retain = false): Buffer {
  const payload = Buffer.alloc(payloadBytes, messageId % 251)
  return mqttPacket.generate({ cmd: 'publish', topic: 'strategy/a/b', payload, qos, messageId, retain, dup: false })
}

describe('bench MQTT framing', () => {
  // payload sizes whose remaining length takes 1, 2 and 3 bytes
  const stream = Buffer.concat([
    mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }),
    publishPacket(10, 0, 0),
    publishPacket(200, 1, 7, true),
    publishPacket(20_000, 1, 65535),
    mqttPacket.generate({ cmd: 'puback', messageId: 42 }),
    mqttPacket.generate({ cmd: 'suback', messageId: 3, granted: [1, 128] }),
    mqttPacket.generate({ cmd: 'pingresp' })
  ])

  function readAll(chunks: Buffer[]): Array<{ type: number, flags: number, body: Buffer }> {
    const seen: Array<{ type: number, flags: number, body: Buffer }> = []
    const reader = new FrameReader((type, flags, body) => seen.push({ type, flags, body: Buffer.from(body) }))
    for (const chunk of chunks) reader.push(chunk)
    return seen
  }

  it('finds the packets mqtt-packet finds, and reads PUBLISH like it', () => {
    const seen = readAll([stream])
    const reference = referencePackets(stream)
    expect(seen.map((p) => p.type)).toEqual([2, PUBLISH, PUBLISH, PUBLISH, PUBACK, 9, 13])
    expect(seen).toHaveLength(reference.length)
    const publishes = reference.filter((p): p is mqttPacket.IPublishPacket => p.cmd === 'publish')
    const read = seen.filter((p) => p.type === PUBLISH).map((p) => readPublish(p.flags, p.body))
    expect(read.map((p) => p.qos)).toEqual(publishes.map((p) => p.qos))
    expect(read.map((p) => p.retain)).toEqual([false, true, false])
    expect(publishes.map((p) => p.retain)).toEqual([false, true, false])
    expect(read.map((p) => p.messageId)).toEqual([0, 7, 65535])
    read.forEach((p, i) => expect(Buffer.compare(p.payload, publishes[i]!.payload as Buffer)).toBe(0))
  })

  it('gives the same packets however the stream is cut', () => {
    const whole = readAll([stream])
    for (const step of [1, 2, 3, 5, 64, 4096]) {
      const chunks: Buffer[] = []
      for (let at = 0; at < stream.length; at += step) chunks.push(stream.subarray(at, at + step))
      expect(readAll(chunks)).toEqual(whole)
    }
  })

  it('waits for the rest of a packet cut inside its length bytes', () => {
    const big = publishPacket(20_000, 1, 9)
    const seen = readAll([big.subarray(0, 2), big.subarray(2)])
    expect(seen).toHaveLength(1)
    expect(readPublish(seen[0]!.flags, seen[0]!.body).messageId).toBe(9)
  })

  it('refuses a remaining length of more than four bytes', () => {
    const reader = new FrameReader(() => undefined)
    expect(() => reader.push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(/remaining length/)
  })

  it('writes PUBLISH packets mqtt-packet reads back, at every length size', () => {
    for (const size of [10, 200, 20_000]) {
      for (const qos of [0, 1] as const) {
        const template = Buffer.alloc(size, 0x61)
        const writer = new PublishWriter('bench/x/fanout', template, qos)
        const buf = Buffer.alloc(writer.size * 3)
        for (let i = 0; i < 3; i++) {
          const at = writer.write(buf, i * writer.size, 100 + i)
          buf.writeUInt32BE(i, at)
        }
        const packets = referencePackets(buf) as mqttPacket.IPublishPacket[]
        expect(packets.map((p) => [p.topic, p.qos, qos === 1 ? p.messageId : 0])).toEqual([0, 1, 2].map((i) => ['bench/x/fanout', qos, qos === 1 ? 100 + i : 0]))
        packets.forEach((p, i) => {
          const payload = p.payload as Buffer
          expect(payload).toHaveLength(size)
          expect(payload.readUInt32BE(0)).toBe(i)
          expect(payload.subarray(4).every((b) => b === 0x61)).toBe(true)
        })
      }
    }
  })

  it('writes PUBACKs and remaining lengths as MQTT defines them', () => {
    expect((referencePackets(pubacks([1, 300, 65535])) as mqttPacket.IPubackPacket[]).map((p) => [p.cmd, p.messageId])).toEqual([['puback', 1], ['puback', 300], ['puback', 65535]])
    const lengths: Array<[number, number[]]> = [[0, [0]], [127, [0x7f]], [128, [0x80, 0x01]], [16_383, [0xff, 0x7f]], [16_384, [0x80, 0x80, 0x01]], [268_435_455, [0xff, 0xff, 0xff, 0x7f]]]
    for (const [length, bytes] of lengths) {
      const buf = Buffer.alloc(4)
      expect(writeLength(buf, 0, length)).toBe(bytes.length)
      expect([...buf.subarray(0, bytes.length)]).toEqual(bytes)
    }
  })
})

describe('bench MQTT client against a real Aedes', () => {
  let aedes: Aedes
  let server: Server
  let port: number

  beforeAll(async () => {
    aedes = await Aedes.createBroker()
    server = createServer(aedes.handle)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })

  afterAll(async () => {
    await new Promise<void>((resolve) => aedes.close(() => resolve()))
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it('delivers a window sent in one write in order, and PUBACKs every QoS 1 message', async () => {
    const sub = new LightClient({ host: '127.0.0.1', port, clientId: 'frames-sub' })
    const pub = new LightClient({ host: '127.0.0.1', port, clientId: 'frames-pub' })
    await sub.connect()
    await pub.connect()
    expect(await sub.subscribe('bench/frames', 1)).toEqual([1])
    let acked = 0
    aedes.on('ack', (_packet, client) => { if (client.id === 'frames-sub') acked++ })
    const seqs: number[] = []
    const count = 500
    const allReceived = new Promise<void>((resolve) => {
      sub.on('message', (packet: { qos: number, payload: Buffer }) => {
        expect(packet.qos).toBe(1)
        seqs.push(packet.payload.readUInt32BE(0))
        if (seqs.length === count) resolve()
      })
    })
    const writer = new PublishWriter('bench/frames', Buffer.alloc(200, 0x61), 1)
    pub.publishMany(writer, count, (buf: Buffer, at: number, i: number) => buf.writeUInt32BE(i, at))
    await allReceived
    expect(seqs).toEqual(Array.from({ length: count }, (_, i) => i))
    await new Promise<void>((resolve) => {
      const check = (): void => { if (acked === count) resolve(); else setTimeout(check, 10) }
      check()
    })
    expect(acked).toBe(count)
    await Promise.all([sub.end(), pub.end()])
  })

  it('rejects the connection when the broker refuses it', async () => {
    aedes.authenticate = (_client, _username, _password, done) => done(null, false)
    const client = new LightClient({ host: '127.0.0.1', port, clientId: 'frames-refused', username: 'x', password: 'y' })
    await expect(client.connect()).rejects.toMatchObject({ returnCode: 5 })
  })
})
