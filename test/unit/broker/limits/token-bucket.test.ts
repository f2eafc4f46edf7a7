import { TokenBucket } from '../../../../broker/limits/token-bucket'

describe('TokenBucket', () => {
  test('take within the burst succeeds, then fails until time refills it', () => {
    let now = 0
    const bucket = new TokenBucket(2, 2, () => now)
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false])
    now = 500
    expect([bucket.take(), bucket.take()]).toEqual([true, false])
  })

  test('take after a long pause is capped at the burst', () => {
    let now = 0
    const bucket = new TokenBucket(10, 3, () => now)
    now = 60_000
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false])
  })
})
