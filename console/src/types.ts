/** The shapes the console reads from /api/v1 (see /openapi.json). */

export interface Signal {
  id: number
  seq: number
  strategy_id: string
  symbol: string
  type: string
  execute_date: string
  description: string
  payload?: unknown
  publisher: number | null
  created_at: string
}

export interface Page<T> {
  data: T[]
  next_cursor: string | null
}

export interface User {
  id: number
  name: string
  contact: string | null
  role: string
  status: 'active' | 'disabled'
  created_at: string
  updated_at: string
}

export interface ApiKey {
  id: number
  user_id: number
  prefix: string
  label: string | null
  status: 'active' | 'expiring' | 'revoked'
  created_at: string
  expires_at: string | null
  last_used_at: string | null
  revoked_at: string | null
  rotated_from_id: number | null
}

/** The answer to creating or rotating a key: the secret appears here only. */
export interface IssuedKey {
  id: number
  prefix: string
  key: string
  expires_at: string | null
}

export interface Subscription {
  id: number
  user_id: number
  strategy_id: string
  symbols: string[] | null
  status: 'active' | 'cancelled'
  created_at: string
  updated_at: string
}

export interface Strategy {
  id: string
  name: string
  description: string
  owner_id: number
  visibility: 'public' | 'private'
  last_seq: number
  created_at: string
  updated_at: string
}

export interface Me {
  user: User
  keys: ApiKey[]
  subscriptions: Subscription[]
  notices: { kind: 'key_expiring', key_id: number, prefix: string, expires_at: string | null, message: string }[]
}

export interface Role {
  id: number
  name: string
  description: string
  created_at: string
}

export type PermissionAction = 'publish' | 'subscribe' | 'read' | 'admin'

export interface Permission {
  id: number
  role: string | null
  user_id: number | null
  action: PermissionAction
  topic: string
  effect: 'allow' | 'deny'
  created_at: string
}

export interface AuditEntry {
  id: number
  at: string
  user_id: number | null
  actor: string | null
  action: string
  resource: string | null
  result: 'ok' | 'denied' | 'failed'
  ip: string | null
  client_id: string | null
  request_id: string | null
  detail?: Record<string, unknown>
}

export interface Report {
  id: number
  user_id: number
  period: string
  period_start: string
  period_end: string
  content?: Record<string, unknown>
  created_at: string
}

export interface SignalStats {
  from: string
  to: string
  time_zone: string
  total: number
  by_day: { day: string, count: number }[]
  by_symbol: { symbol: string, count: number }[]
  by_type: { type: string, count: number }[]
}

export interface FieldIssue {
  path: string
  message: string
}

/** RFC 9457 problem document as the API sends it. */
export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  code: string
  request_id: string
  issues?: FieldIssue[]
}
