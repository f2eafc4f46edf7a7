import { isDatabaseUnavailable } from '../models/database'

/**
 * The closed catalogue of errors Signal Hub reports. Every refusal, on either door,
 * is an `AppError` with one of these codes: REST renders it once as
 * application/problem+json, MQTT maps it to a CONNACK return code or a SUBACK failure.
 */

export interface ErrorSpec {
  status: number
  title: { en: string, zh: string }
  /** MQTT 3.1.1 CONNACK return code used when this error refuses a connection. */
  connack?: 2 | 3 | 4 | 5
}

export const ERROR_CATALOGUE = {
  bad_request: { status: 400, title: { en: 'Bad request', zh: '请求无效' } },
  malformed_json: { status: 400, title: { en: 'Malformed JSON body', zh: 'JSON 格式错误' } },
  validation_failed: { status: 422, title: { en: 'Validation failed', zh: '参数校验失败' } },
  unauthenticated: { status: 401, title: { en: 'Missing or invalid API key', zh: 'API 密钥缺失或无效' }, connack: 4 },
  key_revoked: { status: 401, title: { en: 'API key revoked', zh: 'API 密钥已吊销' }, connack: 4 },
  key_expired: { status: 401, title: { en: 'API key expired', zh: 'API 密钥已过期' }, connack: 4 },
  user_disabled: { status: 403, title: { en: 'User disabled', zh: '用户已停用' }, connack: 5 },
  forbidden: { status: 403, title: { en: 'Not allowed', zh: '无权访问' }, connack: 5 },
  client_id_taken: { status: 409, title: { en: 'Client id belongs to another user', zh: '客户端 ID 属于其他用户' }, connack: 2 },
  client_id_invalid: { status: 400, title: { en: 'Client id not acceptable', zh: '客户端 ID 不可接受' }, connack: 2 },
  client_id_required: { status: 400, title: { en: 'Client id required for a persistent session', zh: '持久会话需要客户端 ID' }, connack: 2 },
  too_many_connections: { status: 429, title: { en: 'Too many connections for this user', zh: '该用户连接数过多' }, connack: 5 },
  not_found: { status: 404, title: { en: 'Not found', zh: '资源不存在' } },
  route_not_found: { status: 404, title: { en: 'No such route', zh: '路由不存在' } },
  method_not_allowed: { status: 405, title: { en: 'Method not allowed', zh: '不支持该方法' } },
  conflict: { status: 409, title: { en: 'Conflict', zh: '资源冲突' } },
  idempotency_conflict: { status: 409, title: { en: 'Idempotency key reused with a different request', zh: '幂等键已用于不同的请求' } },
  payload_too_large: { status: 413, title: { en: 'Payload too large', zh: '请求体过大' } },
  unsupported_media_type: { status: 415, title: { en: 'Unsupported media type', zh: '不支持的内容类型' } },
  rate_limited: { status: 429, title: { en: 'Too many requests', zh: '请求过于频繁' } },
  auth_locked: { status: 429, title: { en: 'Too many failed logins, try later', zh: '登录失败次数过多，请稍后再试' }, connack: 3 },
  service_unavailable: { status: 503, title: { en: 'Service unavailable', zh: '服务暂不可用' }, connack: 3 },
  internal: { status: 500, title: { en: 'Internal error', zh: '内部错误' }, connack: 3 }
} as const satisfies Record<string, ErrorSpec>

export type ErrorCode = keyof typeof ERROR_CATALOGUE

/** One problem with one field of a request; `path` is the JSON path of the field. */
export interface FieldIssue {
  path: string
  message: string
}

export class AppError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly issues?: FieldIssue[]
  readonly headers?: Record<string, string>

  constructor(code: ErrorCode, detail?: string, options: { issues?: FieldIssue[], headers?: Record<string, string>, cause?: unknown } = {}) {
    super(detail ?? ERROR_CATALOGUE[code].title.en, { cause: options.cause })
    this.name = 'AppError'
    this.code = code
    this.status = ERROR_CATALOGUE[code].status
    this.issues = options.issues
    this.headers = options.headers
  }

  get spec(): ErrorSpec {
    return ERROR_CATALOGUE[this.code]
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError
}

/** Any thrown value as an AppError; unknown failures become `internal` and keep their cause. */
/** Seconds a client is told to wait (Retry-After) when the database cannot be reached. */
const DATABASE_RETRY_AFTER_SECONDS = 5

/** The database cannot be reached: 503 with Retry-After on REST, CONNACK 3 / no PUBACK on MQTT. */
export function databaseUnavailable(cause: unknown): AppError {
  return new AppError('service_unavailable', 'the database cannot be reached; nothing was stored, retry shortly', {
    cause,
    headers: { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) }
  })
}

/** Any error as a catalogue error: a database that cannot be reached is service_unavailable, anything unknown internal. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err
  if (isDatabaseUnavailable(err)) return databaseUnavailable(err)
  return new AppError('internal', undefined, { cause: err })
}
