/**
 * A token bucket: `ratePerSecond` tokens a second, holding at most `burst`.
 * Used per MQTT connection for MQTT_PUBLISH_RATE, so it lives in memory.
 */
export class TokenBucket {
  private tokens: number
  private updatedAt: number

  constructor(private readonly ratePerSecond: number, private readonly burst: number, private readonly now: () => number = Date.now) {
    this.tokens = burst
    this.updatedAt = now()
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    const now = this.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.ratePerSecond)
    this.updatedAt = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}
