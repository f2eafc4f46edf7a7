import { z } from 'zod'
import { parseIsoInZone } from './zoned-time'

/** A symbol is one MQTT topic level: no `/ + #`, no whitespace, no control characters. */
export const SYMBOL_PATTERN = /^[^/+#\s\p{Cc}\p{Cs}\uFFFD]{1,32}$/u
export const STRATEGY_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/
export const MAX_BATCH = 1000
export const MAX_PAYLOAD_BYTES = 16 * 1024
export const MAX_DESCRIPTION = 2000
export const MAX_PAYLOAD_DEPTH = 32

const noNul = (s: string): boolean => !s.includes('\u0000')
// a lone surrogate cannot be stored as UTF-8 by MySQL and is never meaningful text
const noLoneSurrogate = (s: string): boolean => !/\p{Cs}/u.test(s)

/** True when `value` nests at most `limit` levels; iterative, so hostile depth cannot overflow the stack. */
export function depthWithin(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]]
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [node, depth] = top
    if (node === null || typeof node !== 'object') continue
    if (depth > limit) return false
    for (const child of Object.values(node)) stack.push([child, depth + 1])
  }
  return true
}

export const strategyIdSchema = z.string().regex(STRATEGY_ID_PATTERN, '1–64 characters of A-Z a-z 0-9 _ . -')
export const symbolSchema = z.string().regex(SYMBOL_PATTERN, '1–32 characters without / + #, spaces or control characters')
/** An idempotency key, the same through both doors: REST's `Idempotency-Key` header and MQTT's `idempotency_key` field. */
export const idempotencyKeySchema = z.string().regex(/^[\x21-\x7e]{1,128}$/, '1–128 printable ASCII characters without spaces')

/** A signal as the caller sends it, after validation: `execute_date` is a UTC instant. */
export interface SignalInput {
  strategy_id: string
  symbol: string
  type: string
  execute_date: Date
  description: string
  payload: unknown
}

export interface SignalSchemaOptions {
  types: readonly string[]
  timeZone: string
}

/**
 * The zod schemas of a signal, shared by REST and MQTT (and by the OpenAPI document).
 * Types and the zone for offset-less times come from the configuration.
 */
export function createSignalSchemas({ types, timeZone }: SignalSchemaOptions) {
  const executeDate = z.string().max(40).transform((text, ctx) => {
    const at = parseIsoInZone(text, timeZone)
    if (at === null) {
      ctx.addIssue({ code: 'custom', message: 'an ISO-8601 date or date-time, e.g. 2026-11-21 or 2026-11-21T09:30:00+08:00' })
      return z.NEVER
    }
    return at
  })
  const payload = z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())])
    .refine((v) => depthWithin(v, MAX_PAYLOAD_DEPTH), { message: `nested at most ${MAX_PAYLOAD_DEPTH} levels`, abort: true })
    .refine((v) => Buffer.byteLength(JSON.stringify(v)) <= MAX_PAYLOAD_BYTES, `at most ${MAX_PAYLOAD_BYTES} bytes of JSON`)
  const fields = {
    type: z.enum(types as [string, ...string[]], { error: `one of ${types.join(', ')}` }),
    execute_date: executeDate,
    description: z.string().max(MAX_DESCRIPTION).refine(noNul, 'no NUL characters').refine(noLoneSurrogate, 'no unpaired surrogates').default(''),
    payload: payload.nullable().default(null)
  }
  const signal = z.strictObject({ strategy_id: strategyIdSchema, symbol: symbolSchema, ...fields })
  const batch = z.strictObject({ signals: z.array(z.unknown()).min(1).max(MAX_BATCH) })
  const mqttSignal = z.strictObject({ ...fields, idempotency_key: idempotencyKeySchema.optional() })
  return { signal, batch, mqttSignal }
}

export type SignalSchemas = ReturnType<typeof createSignalSchemas>
