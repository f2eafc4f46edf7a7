import type { FieldIssue, Problem } from './types'

/** A refusal from the API, carrying its problem document when there was one. */
export class ApiError extends Error {
  readonly status: number
  readonly problem: Problem | null

  constructor(status: number, problem: Problem | null, fallback: string) {
    super(problem === null ? fallback : `${problem.title}: ${problem.detail}`)
    this.name = 'ApiError'
    this.status = status
    this.problem = problem
  }

  get issues(): FieldIssue[] {
    return this.problem?.issues ?? []
  }
}

export type Query = Record<string, string | number | undefined>

export interface ApiClient {
  get<T>(path: string, query?: Query): Promise<T>
  post<T>(path: string, body?: unknown, headers?: Record<string, string>): Promise<T>
  patch<T>(path: string, body: unknown): Promise<T>
  del(path: string): Promise<void>
}

export interface ApiClientOptions {
  key: string
  /** The UI language, sent as Accept-Language so problem titles come back in it. */
  language: () => string
  /** Called when the key stops working (revoked, expired, user disabled). */
  onUnauthorized?: (error: ApiError) => void
  baseUrl?: string
}

export function queryString(query: Query = {}): string {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(name, String(value))
  }
  const text = params.toString()
  return text === '' ? '' : `?${text}`
}

async function problemOf(response: Response): Promise<Problem | null> {
  const type = response.headers.get('content-type') ?? ''
  if (!type.includes('json')) return null
  try {
    return await response.json() as Problem
  } catch {
    return null
  }
}

/** The REST API under /api/v1 with the caller's key; every failure becomes an ApiError. */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const baseUrl = options.baseUrl ?? '/api/v1'

  async function send<T>(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<T> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${options.key}`,
      Accept: 'application/json, application/problem+json',
      'Accept-Language': options.language(),
      ...extra
    }
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    let response: Response
    try {
      response = await fetch(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' })
    } catch (err) {
      throw new ApiError(0, null, (err as Error).message)
    }
    if (!response.ok) {
      const error = new ApiError(response.status, await problemOf(response), `${response.status} ${response.statusText}`)
      if (response.status === 401 || error.problem?.code === 'user_disabled') options.onUnauthorized?.(error)
      throw error
    }
    if (response.status === 204) return undefined as T
    return await response.json() as T
  }

  return {
    get: (path, query) => send('GET', `${path}${queryString(query)}`),
    post: (path, body, headers) => send('POST', path, body, headers),
    patch: (path, body) => send('PATCH', path, body),
    del: async (path) => { await send<void>('DELETE', path) }
  }
}

/** Follows next_cursor until the list ends or `max` items were read. */
export async function readAll<T>(api: ApiClient, path: string, query: Query = {}, max = 1000): Promise<T[]> {
  const items: T[] = []
  let cursor: string | undefined
  do {
    const page = await api.get<{ data: T[], next_cursor: string | null }>(path, { ...query, limit: 100, cursor })
    items.push(...page.data)
    cursor = page.next_cursor ?? undefined
  } while (cursor !== undefined && items.length < max)
  return items
}

/** A random id for Idempotency-Key; crypto.randomUUID needs a secure context, getRandomValues does not. */
export function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}
