import type { Env } from '../../core/config'
import type { CoreOptions } from '../../core/core'
import { startHub, type Hub } from '../../hub'
import type { ScratchDatabase } from './database'
import { apiOf, type Api } from './http'
import { freshDatabase, testConfig, testNode, type TestNode } from './node'

export type { TestUser, TestActor } from './fixtures'
export type { ApiResponse } from './http'

/** A whole Signal Hub node (core, MQTT broker, REST bridge, outbox) as `main` starts it, on loopback. */
export interface TestHub extends Hub, TestNode {
  baseUrl: string
  mqttUrl: string
  /** MQTT over WebSocket on the HTTP port. */
  wsUrl: string
  /** MQTT over TLS, when MQTT_TLS_CERT and MQTT_TLS_KEY are given. */
  mqttsPort?: number
  api: Api
}

export async function startTestHub(env: Env = {}, scratch?: ScratchDatabase, options: CoreOptions = {}): Promise<TestHub> {
  const db = scratch ?? await freshDatabase()
  const hub = await startHub(testConfig(db, env), options)
  const node = testNode(hub.core, db, () => hub.stop())
  const baseUrl = `http://127.0.0.1:${hub.ports.http}`
  return {
    ...hub,
    ...node,
    baseUrl,
    mqttUrl: `mqtt://127.0.0.1:${hub.ports.mqtt}`,
    wsUrl: `ws://127.0.0.1:${hub.ports.http}/mqtt`,
    mqttsPort: hub.ports.mqtts,
    api: apiOf({ baseUrl })
  }
}
