/** A minimal Server-Sent Events reader over fetch, for tests. */
export interface SseEvent {
  id?: string
  event?: string
  data: string
}

export interface SseClient {
  status: number
  headers: Headers
  events: SseEvent[]
  comments: string[]
  /** Resolves once `count` events have arrived (or rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<SseEvent[]>
  /** Resolves when the server ends the stream. */
  ended: Promise<void>
  close(): void
}

export async function openSse(url: string, headers: Record<string, string>): Promise<SseClient> {
  const controller = new AbortController()
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal })
  const events: SseEvent[] = []
  const comments: string[] = []
  const waiters: Array<() => void> = []
  let buffer = ''
  const parse = (block: string): void => {
    const event: SseEvent = { data: '' }
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) comments.push(line.slice(1).trim())
      else if (line.startsWith('id: ')) event.id = line.slice(4)
      else if (line.startsWith('event: ')) event.event = line.slice(7)
      else if (line.startsWith('data: ')) data.push(line.slice(6))
    }
    if (data.length > 0) {
      event.data = data.join('\n')
      events.push(event)
    }
  }
  const ended = (async () => {
    if (res.body === null) return
    const decoder = new TextDecoder()
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true })
        let at: number
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          parse(buffer.slice(0, at))
          buffer = buffer.slice(at + 2)
        }
        for (const wake of waiters.splice(0)) wake()
      }
    } catch {
      // aborted by close()
    }
    for (const wake of waiters.splice(0)) wake()
  })()
  return {
    status: res.status,
    headers: res.headers,
    events,
    comments,
    ended,
    close: () => controller.abort(),
    async waitFor(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs
      while (events.length < count) {
        if (Date.now() > deadline) throw new Error(`timed out with ${events.length}/${count} events`)
        await new Promise<void>((resolve) => {
          waiters.push(resolve)
          setTimeout(resolve, 50)
        })
      }
      return events.slice(0, count)
    }
  }
}
