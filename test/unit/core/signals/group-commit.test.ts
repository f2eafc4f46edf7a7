import { GroupCommit } from '../../../../core/signals/group-commit'

/** A write function that records each group it is given and answers when `release` is called. */
function recorder<T>(answer: (item: T) => string | Error = (item) => `ok ${String(item)}`) {
  const groups: T[][] = []
  const pending: Array<() => void> = []
  const write = (items: T[]): Promise<string[]> => {
    groups.push(items)
    return new Promise((resolve, reject) => pending.push(() => {
      const results = items.map(answer)
      const failure = results.find((r): r is Error => r instanceof Error)
      if (failure === undefined) resolve(results as string[])
      else reject(failure)
    }))
  }
  /** Answers the oldest write still waiting. */
  const release = async (): Promise<void> => {
    for (let i = 0; i < 200 && pending.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5))
    const next = pending.shift()
    if (next === undefined) throw new Error('no write is waiting')
    next()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { groups, write, release, waiting: () => pending.length }
}

describe('GroupCommit', () => {
  test('submit, light load, writes a lone item at once', async () => {
    const r = recorder<number>()
    const commit = new GroupCommit(r.write, { maxSize: 10 })
    const result = commit.submit(1)
    expect(r.groups).toEqual([[1]])
    await r.release()
    await expect(result).resolves.toBe('ok 1')
  })

  test('submit while a write runs, gathers the waiting items into the next write, in order', async () => {
    const r = recorder<number>()
    const commit = new GroupCommit(r.write, { maxSize: 10 })
    const results = [1, 2, 3, 4].map((n) => commit.submit(n))
    expect(r.groups).toEqual([[1]])
    await r.release()
    expect(r.groups).toEqual([[1], [2, 3, 4]])
    await r.release()
    expect(await Promise.all(results)).toEqual(['ok 1', 'ok 2', 'ok 3', 'ok 4'])
  })

  test('maxSize with sizeOf, bounds each group; an item larger than maxSize still goes, alone', async () => {
    const r = recorder<number>()
    const commit = new GroupCommit(r.write, { maxSize: 5, sizeOf: (n) => n })
    const results = [1, 2, 2, 2, 9, 1].map((n) => commit.submit(n))
    for (let i = 0; i < 5; i++) await r.release()
    await Promise.all(results)
    expect(r.groups).toEqual([[1], [2, 2], [2], [9], [1]])
  })

  test('a failing group with retryAlone, writes each item again alone: only the bad one fails', async () => {
    const r = recorder<string>((item) => item === 'bad' ? new Error('bad item') : `ok ${item}`)
    const commit = new GroupCommit(r.write, { maxSize: 10, retryAlone: (err) => (err as Error).message === 'bad item' })
    const first = commit.submit('first')
    const rest = ['a', 'bad', 'b'].map((item) => commit.submit(item).then((v) => v, (err: Error) => err.message))
    await r.release()
    await first
    for (let i = 0; i < 4; i++) await r.release()
    expect(await Promise.all(rest)).toEqual(['ok a', 'bad item', 'ok b'])
    expect(r.groups).toEqual([['first'], ['a', 'bad', 'b'], ['a'], ['bad'], ['b']])
  })

  test('a failing group without retryAlone, fails every item with the same error and writes nothing again', async () => {
    const r = recorder<string>((item) => item === 'bad' ? new Error('database down') : `ok ${item}`)
    const commit = new GroupCommit(r.write, { maxSize: 10, retryAlone: () => false })
    const first = commit.submit('first')
    const rest = ['a', 'bad'].map((item) => commit.submit(item).then((v) => v, (err: Error) => err.message))
    await r.release()
    await first
    await r.release()
    expect(await Promise.all(rest)).toEqual(['database down', 'database down'])
    expect(r.groups).toEqual([['first'], ['a', 'bad']])
  })

  test('concurrency 2, starts a second write while the first runs; later items wait for a free one', async () => {
    const r = recorder<number>()
    const commit = new GroupCommit(r.write, { maxSize: 10, concurrency: 2 })
    const results = [1, 2, 3, 4].map((n) => commit.submit(n))
    expect(r.groups).toEqual([[1], [2]])
    expect(r.waiting()).toBe(2)
    await r.release()
    expect(r.groups).toEqual([[1], [2], [3, 4]])
    await r.release()
    await r.release()
    expect(await Promise.all(results)).toEqual(['ok 1', 'ok 2', 'ok 3', 'ok 4'])
  })

  test('delayMs, gathers what is submitted during the delay into one write', async () => {
    const r = recorder<number>()
    const commit = new GroupCommit(r.write, { maxSize: 10, delayMs: 20 })
    const results = [commit.submit(1)]
    expect(r.groups).toEqual([])
    results.push(commit.submit(2), commit.submit(3))
    await r.release()
    expect(await Promise.all(results)).toEqual(['ok 1', 'ok 2', 'ok 3'])
    expect(r.groups).toEqual([[1, 2, 3]])
  })

  test('idle, resolves only after every item submitted so far is written; an item submitted after a write ends is written too', async () => {
    const r = recorder<number>()
    const commit = new GroupCommit(r.write, { maxSize: 10 })
    void commit.submit(1)
    let idle = false
    const waiting = commit.idle().then(() => { idle = true })
    void commit.submit(2)
    await r.release()
    expect(idle).toBe(false)
    await r.release()
    await waiting
    expect(idle).toBe(true)
    const late = commit.submit(3)
    expect(r.groups).toEqual([[1], [2], [3]])
    await r.release()
    await expect(late).resolves.toBe('ok 3')
  })
})
