import { setTimeout as sleep } from 'node:timers/promises'

interface Waiting<T, R> {
  item: T
  resolve: (result: R) => void
  reject: (err: unknown) => void
}

export interface GroupCommitOptions<T> {
  /** Largest group, measured by `sizeOf` (an item larger than this still goes, alone). */
  maxSize: number
  sizeOf?: (item: T) => number
  /** When a group fails with such an error, its items are written again one by one, so one bad item cannot fail the others. */
  retryAlone?: (err: unknown) => boolean
  /** Milliseconds each group waits to gather more before it is written (default 0: at once). */
  delayMs?: number
  /** Groups written at the same time at most (default 1). */
  concurrency?: number
}

/**
 * Group commit: while a group is being written, whatever is submitted waits, and the next
 * write takes all of it at once. A burst of requests becomes a few writes instead of one
 * each, with no timer and no added latency when the load is light (a lone item is written
 * at once), unless `delayMs` asks each group to wait and gather more (for writes nobody
 * waits on). With `concurrency` above 1, that many groups may be written at the same time;
 * a new group starts when one is done, with everything that waits by then. `write` must
 * return one result per item, in order.
 */
export class GroupCommit<T, R> {
  private queue: Array<Waiting<T, R>> = []
  private readonly writers = new Set<Promise<void>>()
  private readonly concurrency: number

  constructor(private readonly write: (items: T[]) => Promise<R[]>, private readonly options: GroupCommitOptions<T>) {
    this.concurrency = Math.max(1, options.concurrency ?? 1)
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject })
      if (this.writers.size < this.concurrency) this.startWriter()
    })
  }

  /** Resolves once everything submitted so far has been written (or has failed). */
  async idle(): Promise<void> {
    while (this.writers.size > 0) await Promise.all(this.writers)
  }

  private startWriter(): void {
    const writer = this.drain(() => this.writers.delete(writer))
    this.writers.add(writer)
  }

  private take(): Array<Waiting<T, R>> {
    const sizeOf = this.options.sizeOf ?? (() => 1)
    const group: Array<Waiting<T, R>> = []
    let size = 0
    while (this.queue.length > 0 && (group.length === 0 || size + sizeOf(this.queue[0].item) <= this.options.maxSize)) {
      const next = this.queue.shift() as Waiting<T, R>
      size += sizeOf(next.item)
      group.push(next)
    }
    return group
  }

  /**
   * Writes groups one after another while items wait; `done` is called as the last one is
   * taken care of, in the same turn that finds the queue empty, so an item submitted later
   * always finds a free writer slot.
   */
  private async drain(done: () => void): Promise<void> {
    try {
      while (this.queue.length > 0) {
        if (this.options.delayMs !== undefined && this.options.delayMs > 0) await sleep(this.options.delayMs)
        const group = this.take()
        if (group.length === 0) break
        try {
          const results = await this.write(group.map((w) => w.item))
          group.forEach((w, i) => w.resolve(results[i]))
        } catch (err) {
          if (group.length > 1 && this.options.retryAlone?.(err) === true) {
            for (const w of group) await this.write([w.item]).then((r) => w.resolve(r[0]), w.reject)
          } else {
            for (const w of group) w.reject(err)
          }
        }
      }
    } finally {
      done()
    }
  }
}
