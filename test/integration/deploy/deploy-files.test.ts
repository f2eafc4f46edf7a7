import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'

/**
 * Docker cannot run here, so the deployment files are checked as data: the compose
 * services and their wiring, the Dockerfile's stages, user and healthcheck, nginx's
 * proxying of HTTPS, WSS and MQTT, and the PM2 process file.
 */
const ROOT = join(__dirname, '..', '..', '..')
const read = (...path: string[]): string => readFileSync(join(ROOT, ...path), 'utf8')

interface Service {
  image?: string
  build?: { context: string, dockerfile: string }
  command?: string[]
  environment?: Record<string, string>
  ports?: string[]
  secrets?: string[]
  healthcheck?: { test?: string[], disable?: boolean }
  depends_on?: Record<string, { condition: string }>
}

describe('deploy/docker-compose.yml', () => {
  const compose = parse(read('deploy', 'docker-compose.yml'), { merge: true }) as { services: Record<string, Service>, secrets: Record<string, { file: string }> }
  const { services } = compose

  test('has two app instances, MySQL 8, Redis 7 and nginx', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['app1', 'app2', 'mysql', 'redis', 'nginx']))
    expect(services.mysql.image).toMatch(/^mysql:8(\.|$)/)
    expect(services.redis.image).toMatch(/^redis:7(\.|-|$)/)
    expect(services.nginx.image).toMatch(/^nginx:/)
    for (const app of ['app1', 'app2']) expect(services[app].build).toEqual({ context: '..', dockerfile: 'deploy/Dockerfile' })
  })

  test.each(['app1', 'app2'])('%s reaches MySQL and Redis by service name, and takes the admin key from a secret', (name) => {
    const env = services[name].environment as Record<string, string>
    const db = new URL(env.DATABASE_URL.replace(/\$\{[^}]+\}/, 'PASSWORD'))
    expect(db.protocol).toBe('mysql:')
    expect(db.hostname).toBe('mysql')
    expect(db.port).toBe('3306')
    expect(db.pathname).toBe(`/${services.mysql.environment?.MYSQL_DATABASE}`)
    expect(db.username).toBe(services.mysql.environment?.MYSQL_USER)
    // the password comes from deploy/.env, as does MySQL's own
    expect(env.DATABASE_URL).toContain(':${MYSQL_PASSWORD')
    expect(services.mysql.environment?.MYSQL_PASSWORD).toMatch(/^\$\{MYSQL_PASSWORD/)
    expect(new URL(env.REDIS_URL).hostname).toBe('redis')
    expect(env.BOOTSTRAP_ADMIN_KEY).toBeUndefined()
    expect(env.BOOTSTRAP_ADMIN_KEY_FILE).toBe('/run/secrets/bootstrap_admin_key')
    expect(services[name].secrets).toContain('bootstrap_admin_key')
    expect(compose.secrets.bootstrap_admin_key.file).toMatch(/^\.\/secrets\//)
    expect(env.HTTP_PORT).toBe('8080')
    expect(env.MQTT_PORT).toBe('1883')
  })

  test('no secret is written into the compose file', () => {
    const text = read('deploy', 'docker-compose.yml')
    expect(text).not.toMatch(/^\s*\w*(PASSWORD|TOKEN|_KEY):\s*(?!\$\{)\S+/m)
    expect(text).not.toMatch(/shk_[A-Za-z0-9]/)
  })

  test('every long-running service has a healthcheck, and start order avoids migration races', () => {
    for (const name of ['app1', 'app2', 'mysql', 'redis', 'nginx']) expect(services[name].healthcheck?.test?.length).toBeGreaterThan(0)
    expect(services.app1.healthcheck?.test?.join(' ')).toMatch(/\/readyz/)
    expect(services.app1.depends_on).toMatchObject({ migrate: { condition: 'service_completed_successfully' }, mysql: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } })
    expect(services.app2.depends_on).toMatchObject({ app1: { condition: 'service_healthy' } })
    expect(services.migrate.command).toEqual(['node', 'dist/scripts/migrate.js'])
  })

  test('only nginx publishes ports: 80, 443, 1883 and 8883', () => {
    expect(services.nginx.ports).toEqual(['80:80', '443:443', '1883:1883', '8883:8883'])
    for (const name of ['app1', 'app2', 'mysql', 'redis']) expect(services[name].ports).toBeUndefined()
  })
})

describe('deploy/Dockerfile', () => {
  const dockerfile = read('deploy', 'Dockerfile')
  const stages = dockerfile.split(/^FROM /m).slice(1)

  test('builds in one stage and runs on node:20 slim in another', () => {
    expect(stages).toHaveLength(2)
    expect(stages[0]).toMatch(/AS build/)
    expect(stages[0]).toMatch(/npm ci/)
    expect(stages[0]).toMatch(/npm run build/)
    expect(stages[1]).toMatch(/^node:20[\w.-]*slim/)
    expect(stages[1]).toMatch(/COPY --from=build .*\/app\/dist/)
    expect(stages[1]).not.toMatch(/npm (ci|install)/)
  })

  test('runs as a non-root user with a /healthz healthcheck and the service ports', () => {
    const users = [...stages[1].matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1])
    expect(users.length).toBeGreaterThan(0)
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/)
    expect(stages[1]).toMatch(/^HEALTHCHECK .*\n?.*CMD .*node.*\/healthz/m)
    expect(stages[1]).toMatch(/^EXPOSE 8080 1883 8883$/m)
    expect(stages[1]).toMatch(/^CMD \[.*"dist\/main\.js"\]$/m)
  })

  test('.dockerignore keeps local builds, data and secrets out of the context', () => {
    const ignored = read('.dockerignore').split('\n')
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', 'data', 'backups', '.env', 'deploy/secrets', 'deploy/.env']))
  })
})

describe('deploy/nginx.conf', () => {
  const conf = read('deploy', 'nginx.conf')
  const block = (name: string, text = conf): string => {
    const start = text.search(new RegExp(`^\\s*${name.replace(/[/.]/g, '\\$&')}\\s*\\{`, 'm'))
    expect(start).toBeGreaterThanOrEqual(0)
    let depth = 0
    for (let i = text.indexOf('{', start); i < text.length; i++) {
      if (text[i] === '{') depth++
      if (text[i] === '}' && --depth === 0) return text.slice(start, i + 1)
    }
    throw new Error(`unbalanced ${name}`)
  }

  test('terminates TLS on 443 and proxies /mqtt as a WebSocket upgrade to both apps', () => {
    const http = block('http')
    expect(block('upstream signalhub_http', http)).toMatch(/server app1:8080[\s\S]*server app2:8080/)
    expect(http).toMatch(/listen 443 ssl;/)
    expect(http).toMatch(/ssl_certificate\s+\S+;/)
    const mqtt = block('location = /mqtt', http)
    expect(mqtt).toMatch(/proxy_pass http:\/\/signalhub_http;/)
    expect(mqtt).toMatch(/proxy_http_version 1\.1;/)
    expect(mqtt).toMatch(/proxy_set_header Upgrade \$http_upgrade;/)
    expect(mqtt).toMatch(/proxy_set_header Connection \$connection_upgrade;/)
    expect(http).toMatch(/map \$http_upgrade \$connection_upgrade/)
  })

  test('streams MQTT 1883 through and terminates MQTT over TLS on 8883', () => {
    const stream = block('stream')
    expect(block('upstream signalhub_mqtt', stream)).toMatch(/server app1:1883[\s\S]*server app2:1883/)
    expect(stream).toMatch(/listen 1883;/)
    expect(stream).toMatch(/listen 8883 ssl;/)
    expect(stream.match(/proxy_pass signalhub_mqtt;/g)).toHaveLength(2)
  })

  test('every proxying location passes the client address and scheme (headers are not inherited once a location sets one)', () => {
    const http = block('http')
    const locations = [...http.matchAll(/^\s*location [^{]+\{/gm)].map((m) => block(m[0].trim().slice(0, -1).trim(), http.slice(m.index)))
    const proxying = locations.filter((l) => l.includes('proxy_pass'))
    expect(proxying.length).toBe(3)
    for (const body of proxying) {
      expect(body).toMatch(/proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/)
      expect(body).toMatch(/proxy_set_header X-Forwarded-Proto \$scheme;/)
      expect(body).toMatch(/proxy_set_header Host \$host;/)
    }
  })

  test('keeps /metrics off the public door', () => {
    expect(block('location = /metrics', block('http'))).toMatch(/return 404;|deny all;/)
  })
})

describe('ecosystem.config.js', () => {
  const load = (env: Record<string, string | undefined>): { apps: Array<Record<string, unknown>> } => {
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]))
    const set = (values: Record<string, string | undefined>): void => {
      for (const [k, v] of Object.entries(values)) {
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
      }
    }
    set(env)
    try {
      let config: { apps: Array<Record<string, unknown>> } | undefined
      jest.isolateModules(() => {
        config = require(join(ROOT, 'ecosystem.config.js')) // eslint-disable-line @typescript-eslint/no-require-imports
      })
      return config as { apps: Array<Record<string, unknown>> }
    } finally {
      set(saved)
    }
  }

  test('runs dist/main.js in cluster mode with logs, a memory limit and time for a graceful stop', () => {
    const [app] = load({ REDIS_URL: 'redis://127.0.0.1:6379', SIGNALHUB_INSTANCES: undefined, SIGNALHUB_LOG_DIR: '/var/log/signalhub' }).apps
    expect(app).toMatchObject({ name: 'signal-hub', script: 'dist/main.js', exec_mode: 'cluster', instances: 2, out_file: '/var/log/signalhub/out.log', error_file: '/var/log/signalhub/error.log' })
    expect(app.max_memory_restart).toMatch(/^\d+[KMG]$/)
    // main.ts gives a graceful stop 10 s before it exits on its own
    expect(app.kill_timeout).toBeGreaterThanOrEqual(12000)
    expect(app.wait_ready).not.toBe(true)
  })

  test('runs one instance without Redis, and as many as asked with SIGNALHUB_INSTANCES', () => {
    expect(load({ REDIS_URL: undefined, SIGNALHUB_INSTANCES: undefined }).apps[0].instances).toBe(1)
    expect(load({ REDIS_URL: 'redis://r:6379', SIGNALHUB_INSTANCES: '4' }).apps[0].instances).toBe(4)
    expect(load({ SIGNALHUB_INSTANCES: 'max' }).apps[0].instances).toBe('max')
  })
})
