import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHttpApp, type HttpApp } from '../../bridge/app'
import type { Env } from '../../core/config'
import { createCore, type CoreOptions } from '../../core/core'
import type { MessageSink } from '../../core/signals/signal-service'
import type { ScratchDatabase } from './database'
import { apiOf, type Api } from './http'
import { freshDatabase, testConfig, testNode, type TestNode } from './node'

export interface PublishedMessage {
  topic: string
  payload: string
  retain: boolean
}

/** The core and the REST door on loopback, without an MQTT broker: what the core hands the broker is recorded instead. */
export interface TestBridge extends TestNode {
  http: HttpApp
  server: Server
  baseUrl: string
  api: Api
  /** Signals and notices the core handed to its message sink (the broker's place), in order. */
  published: PublishedMessage[]
}

export async function startBridge(env: Env = {}, scratch?: ScratchDatabase, options: CoreOptions = {}): Promise<TestBridge> {
  const db = scratch ?? await freshDatabase()
  const core = await createCore(testConfig(db, env), options)
  const published: PublishedMessage[] = []
  const sink: MessageSink = {
    publish: async (topic, payload, { retain }) => { published.push({ topic, payload: payload.toString('utf8'), retain }) }
  }
  core.signals.setSink(sink)
  core.notifier.setSink(sink)
  const http = createHttpApp(core)
  const server = createServer(http.classes, http.listener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const node = testNode(core, db, async () => {
    http.close()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await core.close()
  })
  return { ...node, http, server, baseUrl, published, api: apiOf({ baseUrl }) }
}
