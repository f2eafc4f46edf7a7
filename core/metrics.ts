import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/** Every Prometheus metric Signal Hub exports, on one registry per process. */
export function createMetrics() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const collectors: Array<() => void> = []
  return {
    registry,
    /** Runs `collect` before every scrape: hot paths keep plain counters and hand them over then. */
    onCollect(collect: () => void): void {
      collectors.push(collect)
    },
    httpDuration: new Histogram({
      name: 'signalhub_http_request_duration_seconds',
      help: 'HTTP request latency by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry]
    }),
    signalsIngested: new Counter({
      name: 'signalhub_signals_ingested_total',
      help: 'Signals stored, by door',
      labelNames: ['source'] as const,
      registers: [registry]
    }),
    signalsRejected: new Counter({
      name: 'signalhub_signals_rejected_total',
      help: 'Signals refused, by door and reason code',
      labelNames: ['source', 'code'] as const,
      registers: [registry]
    }),
    mqttConnections: new Gauge({
      name: 'signalhub_mqtt_connections',
      help: 'MQTT clients connected to this node',
      registers: [registry]
    }),
    mqttDeliveries: new Counter({
      name: 'signalhub_mqtt_deliveries_total',
      help: 'Messages forwarded to MQTT subscribers',
      registers: [registry],
      collect() {
        for (const collect of collectors) collect()
      }
    }),
    mqttForwardDenied: new Counter({
      name: 'signalhub_mqtt_forward_denied_total',
      help: 'Deliveries withheld by authorizeForward',
      registers: [registry]
    }),
    authFailures: new Counter({
      name: 'signalhub_auth_failures_total',
      help: 'Refused logins, by door and reason code',
      labelNames: ['door', 'code'] as const,
      registers: [registry]
    }),
    rateLimited: new Counter({
      name: 'signalhub_rate_limited_total',
      help: 'Requests or publishes refused by a rate limit, by door',
      labelNames: ['door'] as const,
      registers: [registry]
    }),
    publishFailures: new Counter({
      name: 'signalhub_publish_failures_total',
      help: 'Stored signals whose hand-off to the broker failed (left to the outbox)',
      registers: [registry]
    }),
    redisUp: new Gauge({
      name: 'signalhub_redis_up',
      help: '1 when Redis answers, 0 when it does not, absent without Redis',
      registers: [registry]
    }),
    jobRuns: new Counter({
      name: 'signalhub_job_runs_total',
      help: 'Scheduled or on-demand job runs, by job and result',
      labelNames: ['job_name', 'result'] as const,
      registers: [registry]
    }),
    databaseUp: new Gauge({
      name: 'signalhub_database_up',
      help: '1 when the database answers',
      registers: [registry]
    })
  }
}

export type Metrics = ReturnType<typeof createMetrics>
