'use strict'
/**
 * A minimal MQTT 3.1.1 client for load generation: connect, subscribe, publish at QoS 0/1
 * (the broker's PUBACKs unheard), PUBACK for incoming QoS 1, nothing else (no store, no
 * reconnect, no keep-alive timer).
 * MQTT.js does far more per message; a lighter generator keeps the load process from
 * becoming the bottleneck on a 2-core machine, so the broker is what gets measured.
 * Incoming packets are framed by hand (mqtt-frames.js), the PUBACKs owed for one chunk
 * of input leave in one write, and `publishMany` sends a window of messages in one write.
 */
const { setTimeout } = require('node:timers')
const { Buffer } = require('node:buffer')
const { URL } = require('node:url')
const net = require('node:net')
const { EventEmitter } = require('node:events')
const mqttPacket = require('mqtt-packet')
const { FrameReader, readPublish, pubacks, PUBLISH } = require('./mqtt-frames')

const CONNACK = 2
const PUBACK = 4
const SUBACK = 9
const UNSUBACK = 11

class LightClient extends EventEmitter {
  /**
   * @param {{ host: string, port: number, clientId: string, username?: string, password?: string, clean?: boolean, keepalive?: number, noDelay?: boolean }} options
   */
  constructor(options) {
    super()
    this.options = options
    this.nextId = 1
    /** @type {Map<number, (body: Buffer) => void>} */
    this.pending = new Map()
    this.socket = null
    this.closed = false
  }

  /** Resolves on CONNACK 0; rejects with the return code otherwise. */
  connect() {
    const o = this.options
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: o.host, port: o.port })
      this.socket = socket
      if (o.noDelay !== false) socket.setNoDelay(true)
      let connected = false
      /** message ids of the QoS 1 messages in the chunk being read */
      let owed = []
      const reader = new FrameReader((type, flags, body) => {
        switch (type) {
          case PUBLISH: {
            const packet = readPublish(flags, body)
            if (packet.qos === 1) owed.push(packet.messageId)
            this.emit('message', packet)
            break
          }
          case CONNACK: {
            connected = true
            const returnCode = body[1]
            if (returnCode === 0) resolve(this)
            else reject(Object.assign(new Error(`connack ${returnCode}`), { returnCode }))
            break
          }
          case PUBACK:
          case SUBACK:
          case UNSUBACK: {
            const messageId = body.readUInt16BE(0)
            const done = this.pending.get(messageId)
            if (done === undefined) break
            this.pending.delete(messageId)
            done(body)
            break
          }
          default:
            break
        }
      })
      socket.on('data', (data) => {
        try {
          reader.push(data)
        }
        catch (err) {
          socket.destroy(err)
          return
        }
        if (owed.length > 0 && !socket.writableEnded) {
          socket.write(pubacks(owed))
          owed = []
        }
      })
      socket.on('error', (err) => {
        if (!connected) reject(err)
        else if (this.listenerCount('error') > 0) this.emit('error', err)
      })
      socket.on('close', () => {
        this.closed = true
        if (!connected) reject(new Error('closed before CONNACK'))
        this.emit('close')
      })
      socket.on('connect', () => {
        socket.write(mqttPacket.generate({
          cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: o.clean !== false, clientId: o.clientId,
          keepalive: o.keepalive ?? 0, username: o.username, password: o.password === undefined ? undefined : Buffer.from(o.password)
        }))
      })
    })
  }

  allocateId() {
    const id = this.nextId
    this.nextId = id === 65535 ? 1 : id + 1
    return id
  }

  /** Resolves with the granted QoS list (128 = refused). */
  subscribe(topic, qos) {
    const messageId = this.allocateId()
    return new Promise((resolve) => {
      this.pending.set(messageId, (body) => resolve([...body.subarray(2)]))
      this.socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId, subscriptions: [{ topic, qos }] }))
    })
  }

  /**
   * Sends `count` messages built by `writer` (a PublishWriter) in one write, their PUBACKs
   * unheard. `stamp(buf, payloadAt, i)` fills in each message's own bytes.
   */
  publishMany(writer, count, stamp) {
    const buf = Buffer.allocUnsafe(writer.size * count)
    for (let i = 0; i < count; i++) {
      const payloadAt = writer.write(buf, i * writer.size, this.allocateId())
      stamp(buf, payloadAt, i)
    }
    return this.socket.write(buf)
  }

  end() {
    return new Promise((resolve) => {
      if (this.closed || this.socket === null) return resolve()
      this.socket.once('close', resolve)
      this.socket.end(mqttPacket.generate({ cmd: 'disconnect' }))
      setTimeout(() => { this.socket.destroy(); resolve() }, 1000).unref()
    })
  }
}

/** Parses `mqtt://[user:pass@]host:port` into host and port. */
function parseMqttUrl(url) {
  const u = new URL(url)
  return { host: u.hostname, port: Number(u.port || 1883), username: u.username ? decodeURIComponent(u.username) : undefined, password: u.password ? decodeURIComponent(u.password) : undefined }
}

module.exports = { LightClient, parseMqttUrl }
