import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { startTestHub, type TestHub } from '../../helpers/hub'

/**
 * The alert rules and the Grafana dashboard may only use metrics the service really
 * exports: every metric name in their queries must appear in a live node's /metrics.
 */
const ROOT = join(__dirname, '..', '..', '..')
const read = (...path: string[]): string => readFileSync(join(ROOT, ...path), 'utf8')

interface Rule { alert?: string, record?: string, expr: string, for?: string, labels?: Record<string, string>, annotations?: Record<string, string> }
interface Panel { title?: string, type: string, targets?: Array<{ expr?: string }>, panels?: Panel[] }

const alerts = parse(read('deploy', 'prometheus', 'alerts.yml')) as { groups: Array<{ name: string, rules: Rule[] }> }
const dashboard = JSON.parse(read('deploy', 'grafana', 'signalhub-dashboard.json')) as { uid: string, title: string, panels: Panel[], templating: { list: Array<{ query?: unknown, definition?: string }> } }
const rules = alerts.groups.flatMap((g) => g.rules)
const panelExprs = (panels: Panel[]): string[] => panels.flatMap((p) => [...(p.targets ?? []).map((t) => t.expr ?? ''), ...panelExprs(p.panels ?? [])])
const dashboardExprs = [...panelExprs(dashboard.panels), ...dashboard.templating.list.map((v) => v.definition ?? '')]

/** Metric names a PromQL expression reads: the service's own, and the Node process metrics. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b((?:signalhub|process|nodejs)_[A-Za-z0-9_]+)\b/g)].map((m) => m[1])
}

/** Names exported in Prometheus text format: each family's TYPE, and a histogram's series. */
function exported(text: string): Set<string> {
  const names = new Set<string>()
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line)
    if (type === null) continue
    names.add(type[1])
    if (type[2] === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(type[1] + suffix)
    if (type[2] === 'summary') for (const suffix of ['_sum', '_count']) names.add(type[1] + suffix)
  }
  return names
}

describe('Prometheus rules and Grafana dashboard', () => {
  let hub: TestHub

  beforeAll(async () => {
    hub = await startTestHub()
  })

  afterAll(async () => {
    await hub.shutdown()
  })

  test('the alert rules cover what operators are paged for', () => {
    const names = rules.map((r) => r.alert)
    expect(names).toEqual(expect.arrayContaining([
      'SignalHubHighErrorRate', 'SignalHubHighLatencyP99', 'SignalHubAuthFailureSpike', 'SignalHubDatabaseDown',
      'SignalHubRedisDown', 'SignalHubJobFailed', 'SignalHubNoSignalsInMarketHours'
    ]))
    for (const rule of rules) {
      expect(rule.expr.trim().length).toBeGreaterThan(0)
      expect(rule.labels?.severity).toMatch(/^(critical|warning|info)$/)
      expect(rule.annotations?.summary).toBeTruthy()
    }
    const byName = Object.fromEntries(rules.map((r) => [r.alert, r.expr]))
    expect(byName.SignalHubDatabaseDown).toMatch(/signalhub_database_up/)
    expect(byName.SignalHubRedisDown).toMatch(/signalhub_redis_up/)
    expect(byName.SignalHubJobFailed).toMatch(/signalhub_job_runs_total\{[^}]*result="failed"/)
    expect(byName.SignalHubHighLatencyP99).toMatch(/histogram_quantile\(0\.99/)
    expect(byName.SignalHubNoSignalsInMarketHours).toMatch(/day_of_week\(\)/)
  })

  test('the Prometheus scrape config loads the rules and scrapes /metrics', () => {
    const config = parse(read('deploy', 'prometheus', 'prometheus.yml')) as { rule_files: string[], scrape_configs: Array<{ job_name: string, metrics_path?: string, static_configs: Array<{ targets: string[] }> }> }
    expect(config.rule_files.some((f) => f.endsWith('alerts.yml'))).toBe(true)
    const job = config.scrape_configs.find((c) => c.job_name === 'signalhub')
    expect(job?.metrics_path ?? '/metrics').toBe('/metrics')
    expect(job?.static_configs.flatMap((s) => s.targets)).toEqual(['app1:8080', 'app2:8080'])
    // the alert for a dead instance reads the scrape job's own `up` series
    expect(rules.find((r) => r.alert === 'SignalHubInstanceDown')?.expr).toContain(`up{job="${job?.job_name}"}`)
  })

  test('the dashboard is importable and has a query in every panel', () => {
    expect(dashboard.uid).toBe('signal-hub')
    const panels = dashboard.panels.filter((p) => p.type !== 'row')
    expect(panels.length).toBeGreaterThan(8)
    for (const panel of panels) expect(panelExprs([panel]).every((e) => e.length > 0) && (panel.targets?.length ?? 0) > 0).toBe(true)
  })

  test('every metric the rules and the dashboard use is exported by a running node', async () => {
    // a request or two so the HTTP histogram has series
    expect((await fetch(`${hub.baseUrl}/healthz`)).status).toBe(200)
    expect((await fetch(`${hub.baseUrl}/api/v1/signals`)).status).toBe(401)
    const res = await fetch(`${hub.baseUrl}/metrics`)
    expect(res.status).toBe(200)
    const available = exported(await res.text())

    const used = new Map<string, string>()
    for (const rule of rules) for (const name of metricNames(rule.expr)) used.set(name, `alert ${rule.alert}`)
    for (const expr of dashboardExprs) for (const name of metricNames(expr)) used.set(name, 'dashboard')
    expect(used.size).toBeGreaterThan(10)
    const missing = [...used].filter(([name]) => !available.has(name)).map(([name, where]) => `${name} (${where})`)
    expect(missing).toEqual([])
  })
})
