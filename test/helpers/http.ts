/** HTTP requests to a test node's REST door. */

/** A decoded JSON response body; tests read whichever fields they assert on. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonBody = any

export interface ApiResponse {
  status: number
  headers: Headers
  /** Parsed when the response is JSON, the text otherwise (null when empty). */
  body: JsonBody
}

export interface CallOptions {
  /** Sent as `Authorization: Bearer <key>`. */
  key?: string | null
  /** A JSON value, or a string sent as it is. */
  body?: unknown
  headers?: Record<string, string>
}

/** `method path` against `node.baseUrl`; never throws on an HTTP status. */
export async function call(node: { baseUrl: string }, method: string, path: string, options: CallOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.key !== undefined && options.key !== null) headers.authorization = `Bearer ${options.key}`
  let body: string | undefined
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body)
    headers['content-type'] ??= 'application/json'
  }
  const res = await fetch(`${node.baseUrl}${path}`, { method, headers, body })
  const text = await res.text()
  let parsed: unknown = text === '' ? null : text
  if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') parsed = JSON.parse(text)
  return { status: res.status, headers: res.headers, body: parsed }
}

/** A JSON request to `/api/v1<path>` with `key` as the bearer (none when null). */
export type Api = (method: string, path: string, key: string | null, body?: unknown) => Promise<ApiResponse>

export function apiOf(node: { baseUrl: string }): Api {
  return (method, path, key, body) => call(node, method, `/api/v1${path}`, { key, body })
}
