'use strict'
/**
 * A minimal MQTT 3.1.1 client for load generation: connect, subscribe, publish at QoS 0/1,
 * PUBACK for incoming QoS 1, nothing else (no store, no reconnect, no keep-alive timer).
 * MQTT.js does far more per message; a lighter generator keeps the load process from
 * becoming the bottleneck on a 2-core machine, so the broker is what gets measured.
 */
const { setTimeout } = require('node:timers')
const { Buffer } = require('node:buffer')
const { URL } = require('node:url')
const net = require('node:net')
const { EventEmitter } = require('node:events')
const mqttPacket = require('mqtt-packet')

class LightClient extends EventEmitter {
  /**
   * @param {{ host: string, port: number, clientId: string, username?: string, password?: string, clean?: boolean, keepalive?: number, noDelay?: boolean }} options
   */
  constructor(options) {
    super()
    this.options = options
    this.nextId = 1
    /** @type {Map<number, () => void>} */
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
      const parser = mqttPacket.parser({ protocolVersion: 4 })
      let connected = false
      parser.on('packet', (packet) => {
        switch (packet.cmd) {
          case 'connack':
            connected = true
            if (packet.returnCode === 0) resolve(this)
            else reject(Object.assign(new Error(`connack ${packet.returnCode}`), { returnCode: packet.returnCode }))
            break
          case 'publish':
            if (packet.qos === 1 && !socket.writableEnded) socket.write(pubackFor(packet.messageId))
            this.emit('message', packet)
            break
          case 'puback':
          case 'suback':
          case 'unsuback': {
            const done = this.pending.get(packet.messageId)
            this.pending.delete(packet.messageId)
            if (done !== undefined) done(packet)
            break
          }
          default:
            break
        }
      })
      parser.on('error', (err) => socket.destroy(err))
      socket.on('data', (data) => parser.parse(data))
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
      this.pending.set(messageId, (packet) => resolve(packet.granted))
      this.socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId, subscriptions: [{ topic, qos }] }))
    })
  }

  /** QoS 0: fire and forget. QoS 1: `onAck` runs on PUBACK. */
  publish(topic, payload, qos, onAck) {
    if (qos === 0) {
      return this.socket.write(mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false }))
    }
    const messageId = this.allocateId()
    if (onAck !== undefined) this.pending.set(messageId, onAck)
    return this.socket.write(mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 1, messageId, retain: false, dup: false }))
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

function pubackFor(messageId) {
  const buf = Buffer.allocUnsafe(4)
  buf[0] = 0x40
  buf[1] = 2
  buf.writeUInt16BE(messageId, 2)
  return buf
}

/** Parses `mqtt://[user:pass@]host:port` into host and port. */
function parseMqttUrl(url) {
  const u = new URL(url)
  return { host: u.hostname, port: Number(u.port || 1883), username: u.username ? decodeURIComponent(u.username) : undefined, password: u.password ? decodeURIComponent(u.password) : undefined }
}

module.exports = { LightClient, parseMqttUrl }
