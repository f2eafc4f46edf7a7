import { PassThrough } from 'node:stream'
import { runCli } from '../../../scripts/cli/run-cli'
import { scratchDatabase, type ScratchDatabase } from '../../helpers/database'
import { startCore, type TestNode } from '../../helpers/node'

interface CliRun {
  code: number
  out: string
  err: string
  json: () => any // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('admin CLI', () => {
  let scratch: ScratchDatabase
  const env = (): Record<string, string | undefined> => ({ DATABASE_URL: scratch.url, LOG_LEVEL: 'silent' })

  async function cli(...argv: string[]): Promise<CliRun> {
    const out = new PassThrough()
    const err = new PassThrough()
    const chunks: string[] = []
    const errors: string[] = []
    out.on('data', (c: Buffer) => chunks.push(c.toString()))
    err.on('data', (c: Buffer) => errors.push(c.toString()))
    const code = await runCli(argv, out, { env: env(), err })
    const text = chunks.join('')
    return { code, out: text, err: errors.join(''), json: () => JSON.parse(text) }
  }

  /** A node on the CLI's database, as the service would see what the CLI did. */
  async function withNode<T>(work: (node: TestNode) => Promise<T>): Promise<T> {
    const node = await startCore({ REDIS_URL: undefined }, scratch)
    try {
      return await work(node)
    } finally {
      await node.stop()
    }
  }

  beforeEach(async () => { scratch = await scratchDatabase() })
  afterEach(async () => scratch.drop())

  test('user create prints a key once that then verifies', async () => {
    const run = await cli('--json', 'user', 'create', '--name', 'alice', '--role', 'publisher', '--contact', 'a@example.com')
    expect(run.code).toBe(0)
    const { user, key } = run.json()
    expect(user).toMatchObject({ name: 'alice', role: 'publisher', contact: 'a@example.com' })
    expect(key.key).toMatch(/^shk_/)
    await withNode(async ({ core }) => {
      await expect(core.keys.verify(key.key)).resolves.toMatchObject({ userId: user.id, role: 'publisher' })
    })
    const readable = await cli('user', 'create', '--name', 'bob', '--role', 'subscriber')
    expect(readable.out).toMatch(/user \d+ bob \(subscriber\) created\n.*\n.*shown only now.*\nshk_\S+\n/)
  })

  test('user list, disable and enable', async () => {
    const { key } = (await cli('--json', 'user', 'create', '--name', 'alice', '--role', 'subscriber')).json()
    expect((await cli('user', 'disable', 'alice')).out).toMatch(/is disabled/)
    await withNode(async ({ core }) => expect(core.keys.verify(key.key)).rejects.toMatchObject({ code: 'user_disabled' }))
    const disabled = await cli('user', 'disable', 'alice')
    expect(disabled.err).toMatch(/REDIS_URL is not set/)
    expect((await cli('user', 'enable', 'alice')).code).toBe(0)
    const list = await cli('--json', 'user', 'list')
    expect(list.json().map((u: { name: string, status: string }) => [u.name, u.status])).toEqual([['alice', 'active']])
    expect((await cli('user', 'list')).out).toMatch(/alice\s+subscriber\s+active/)
  })

  test('key create, list, rotate and revoke', async () => {
    await cli('user', 'create', '--name', 'alice', '--role', 'subscriber', '--no-key')
    const created = (await cli('--json', 'key', 'create', '--user', 'alice', '--label', 'bot')).json().key
    const rotated = (await cli('--json', 'key', 'rotate', String(created.id))).json()
    expect(rotated.previous.status).toBe('expiring')
    expect((await cli('key', 'revoke', String(rotated.key.id))).out).toMatch(/revoked/)
    await withNode(async ({ core }) => {
      await expect(core.keys.verify(created.key)).resolves.toMatchObject({ userName: 'alice' })
      await expect(core.keys.verify(rotated.key.key)).rejects.toMatchObject({ code: 'key_revoked' })
    })
    const keys = (await cli('--json', 'key', 'list', '--user', 'alice')).json()
    expect(keys.map((k: { status: string }) => k.status)).toEqual(['expiring', 'revoked'])
    expect((await cli('key', 'list', '--user', 'alice')).out).not.toContain(created.key)
  })

  test('strategy create, subscription add and remove, with the policy in effect', async () => {
    const pub = (await cli('--json', 'user', 'create', '--name', 'pub', '--role', 'publisher')).json()
    const sub = (await cli('--json', 'user', 'create', '--name', 'sub', '--role', 'subscriber')).json()
    expect((await cli('strategy', 'create', '--id', 's1', '--name', 'S one', '--owner', 'pub', '--private')).out).toMatch(/strategy s1 \(private\) created/)
    const added = await cli('--json', 'subscription', 'add', '--user', 'sub', '--strategy', 's1', '--symbols', 'BTC, ETH')
    expect(added.json()).toMatchObject({ strategy_id: 's1', symbols: ['BTC', 'ETH'] })
    expect(added.err).toMatch(/policy reload/)
    await withNode(async ({ core }) => {
      const principal = await core.keys.verify(sub.key.key)
      expect(core.policy.current.can(principal, 'subscribe', 'strategy/s1/BTC')).toBe(true)
      expect(core.policy.current.can(await core.keys.verify(pub.key.key), 'publish', 'strategy/s1/BTC')).toBe(true)
    })
    expect((await cli('subscription', 'remove', String(added.json().id))).code).toBe(0)
    await withNode(async ({ core }) => {
      expect(core.policy.current.can(await core.keys.verify(sub.key.key), 'subscribe', 'strategy/s1/BTC')).toBe(false)
    })
  })

  test('role list, permission add, list and remove', async () => {
    expect((await cli('role', 'list')).out).toMatch(/admin[\s\S]*publisher[\s\S]*subscriber/)
    await cli('user', 'create', '--name', 'dev', '--role', 'subscriber', '--no-key')
    const rule = (await cli('--json', 'permission', 'add', '--user', 'dev', '--action', 'publish', '--topic', 'devices/${user_id}/#', '--effect', 'allow')).json()
    expect(rule).toMatchObject({ action: 'publish', topic: 'devices/${user_id}/#', effect: 'allow' })
    expect((await cli('permission', 'list', '--user', 'dev')).out).toContain('devices/${user_id}/#')
    expect((await cli('permission', 'remove', String(rule.id))).code).toBe(0)
    expect((await cli('--json', 'permission', 'list', '--role', 'subscriber')).json().length).toBeGreaterThan(0)
    const bad = await cli('permission', 'add', '--role', 'subscriber', '--action', 'fly', '--topic', 'a/#/b', '--effect', 'allow')
    expect(bad.code).toBe(1)
    expect(bad.err).toMatch(/^error: validation_failed: .*action/)
  })

  test('client-binding release removes the binding; an unknown one fails with one line', async () => {
    const { user } = (await cli('--json', 'user', 'create', '--name', 'dev', '--role', 'subscriber')).json()
    await withNode(async ({ core }) => expect(await core.clientBindings.claim('dev-1', user.id)).toBe(true))
    expect((await cli('client-binding', 'release', 'dev-1')).code).toBe(0)
    const again = await cli('client-binding', 'release', 'dev-1')
    expect(again.code).toBe(1)
    expect(again.err.trim().split('\n')).toEqual(['error: not_found: client id dev-1 is not bound'])
  })

  test('refusals exit 1 with one line: conflict, unknown user', async () => {
    await cli('user', 'create', '--name', 'alice', '--role', 'subscriber', '--no-key')
    const dup = await cli('user', 'create', '--name', 'alice', '--role', 'subscriber')
    expect(dup.code).toBe(1)
    expect(dup.err).toBe('error: conflict: a user named alice exists\n')
    expect((await cli('key', 'list', '--user', 'nobody')).code).toBe(1)
  })

  test.each([
    [[]],
    [['user']],
    [['frobnicate', 'now']],
    [['user', 'create', '--name', 'x']],
    [['user', 'create', '--name', 'x', '--role', 'subscriber', '--colour', 'red']],
    [['key', 'revoke']],
    [['key', 'revoke', '1', '2']],
    [['permission', 'add', '--action', 'read', '--topic', 't', '--effect', 'allow']]
  ])('bad arguments %j exit 2 with a usage line', async (argv) => {
    const run = await cli(...argv)
    expect(run.code).toBe(2)
    expect(run.err).toMatch(/usage: npm run cli -- /)
  })

  test('help prints every command', async () => {
    const run = await cli('help')
    expect(run.code).toBe(0)
    expect(run.out).toContain('client-binding release <client id>')
  })

  test('job run cleanup-logs reports progress and a summary line, and deletes old audit rows', async () => {
    await withNode(async (node) => {
      await node.database().models.AuditLog.create({ at: new Date(Date.now() - 400 * 86_400_000), action: 'test.old', result: 'ok', user_id: null, actor: null, resource: null, ip: null, client_id: null, request_id: null, detail: null })
    })
    const run = await cli('job', 'run', 'cleanup-logs')
    expect(run.code).toBe(0)
    expect(run.out).toMatch(/^cleanup-logs: deleted 1 audit rows older than /)
    expect(run.err).toContain('note: cleanup-logs: audit rows deleted: 1')
    expect(await withNode((node) => node.database().models.AuditLog.count({ where: { action: 'test.old' } }))).toBe(0)
  })

  test('job run with an unknown job exits 2 naming the jobs', async () => {
    const run = await cli('job', 'run', 'defrag')
    expect(run.code).toBe(2)
    expect(run.err).toMatch(/unknown job defrag; one of cleanup-logs, reports, rotate-keys, backup/)
  })
})
