import type { Core } from '../../../../core/core'
import { cliContext, type ActionContext } from '../../../../core/action-context'
import { ERASED_ACTOR } from '../../../../core/users/erase-user'
import type { UserService } from '../../../../core/users/user-service'
import type { TestActor } from '../../../helpers/fixtures'
import { startCore, type TestNode } from '../../../helpers/node'

describe('UserService', () => {
  let node: TestNode
  let core: Core
  let users: UserService
  let admin: ActionContext
  let alice: ActionContext
  let aliceUser: TestActor

  beforeEach(async () => {
    node = await startCore()
    core = node.core
    users = core.users
    admin = (await node.actor('root', 'admin')).ctx
    aliceUser = await node.actor('alice', 'subscriber')
    alice = aliceUser.ctx
  })

  afterEach(async () => node.shutdown())

  test('create by an admin stores the user and audits it without secrets', async () => {
    const bob = await users.create(admin, { name: 'bob', contact: 'bob@example.com', role: 'publisher' })
    expect(bob).toMatchObject({ name: 'bob', contact: 'bob@example.com', role: 'publisher', status: 'active' })
    const audit = await core.auditLog.query(admin, { action: 'user.create', user_id: admin.principal.userId })
    expect(audit.data).toHaveLength(1)
    expect(audit.data[0]).toMatchObject({ user_id: admin.principal.userId, actor: 'root', resource: `user/${bob.id}`, result: 'ok' })
  })

  test('create with a taken name is a conflict', async () => {
    await expect(users.create(admin, { name: 'alice', role: 'subscriber' })).rejects.toMatchObject({ code: 'conflict', status: 409 })
  })

  test('create with an unknown role or a bad name fails validation', async () => {
    await expect(users.create(admin, { name: 'carol', role: 'wizard' })).rejects.toMatchObject({ code: 'validation_failed' })
    await expect(users.create(admin, { name: '', role: 'subscriber' })).rejects.toMatchObject({ code: 'validation_failed' })
    await expect(users.create(admin, { name: 'x'.repeat(101), role: 'subscriber' })).rejects.toMatchObject({ code: 'validation_failed' })
  })

  test('create, list, update and delete by a non-admin are forbidden', async () => {
    await expect(users.create(alice, { name: 'eve', role: 'admin' })).rejects.toMatchObject({ code: 'forbidden' })
    await expect(users.list(alice)).rejects.toMatchObject({ code: 'forbidden' })
    await expect(users.update(alice, alice.principal.userId, { role: 'admin' })).rejects.toMatchObject({ code: 'forbidden' })
    await expect(users.delete(alice, admin.principal.userId)).rejects.toMatchObject({ code: 'forbidden' })
  })

  test('get lets a user read itself but not others', async () => {
    expect((await users.get(alice, alice.principal.userId)).name).toBe('alice')
    await expect(users.get(alice, admin.principal.userId)).rejects.toMatchObject({ code: 'forbidden' })
    await expect(users.get(admin, 999999)).rejects.toMatchObject({ code: 'not_found' })
  })

  test('list pages through every user without duplicates or gaps', async () => {
    for (let i = 0; i < 7; i++) await users.create(admin, { name: `u${i}`, role: 'subscriber' })
    const seen: string[] = []
    let cursor: string | undefined
    do {
      const page = await users.list(admin, { limit: 3, cursor })
      seen.push(...page.data.map((u) => u.name))
      cursor = page.next_cursor ?? undefined
    } while (cursor !== undefined)
    expect(seen).toEqual(['root', 'alice', 'u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6'])
    expect((await users.list(admin, { role: 'admin' })).data.map((u) => u.name)).toEqual(['root'])
  })

  test('list with a forged cursor fails validation', async () => {
    await expect(users.list(admin, { cursor: 'bm9wZQ' })).rejects.toMatchObject({ code: 'validation_failed' })
  })

  test('disable announces the user change, so the user\'s key stops verifying at once', async () => {
    const issued = await core.keys.create(alice.principal.userId)
    await core.keys.verify(issued.key)
    const changes: unknown[] = []
    core.bus.on('change', (c) => changes.push(c))
    await users.update(admin, alice.principal.userId, { status: 'disabled' })
    expect(changes).toContainEqual({ kind: 'user', userId: alice.principal.userId })
    await expect(core.keys.verify(issued.key)).rejects.toMatchObject({ code: 'user_disabled' })
    await users.update(admin, alice.principal.userId, { status: 'active' })
    await expect(core.keys.verify(issued.key)).resolves.toMatchObject({ userId: alice.principal.userId })
  })

  test('the last active admin cannot be disabled, demoted or deleted', async () => {
    await expect(users.update(admin, admin.principal.userId, { status: 'disabled' })).rejects.toMatchObject({ code: 'conflict' })
    await expect(users.update(admin, admin.principal.userId, { role: 'subscriber' })).rejects.toMatchObject({ code: 'conflict' })
    await expect(users.delete(admin, admin.principal.userId)).rejects.toMatchObject({ code: 'conflict' })
  })

  test('update renames and rejects an empty patch or a taken name', async () => {
    expect((await users.update(admin, alice.principal.userId, { name: 'alicia', contact: null })).name).toBe('alicia')
    await expect(users.update(admin, alice.principal.userId, {})).rejects.toMatchObject({ code: 'validation_failed' })
    await expect(users.update(admin, alice.principal.userId, { name: 'root' })).rejects.toMatchObject({ code: 'conflict' })
  })

  test('delete erases keys and subscriptions and pseudonymises audit rows', async () => {
    const pub = await node.actor('pub', 'publisher')
    await node.strategy('s1', pub)
    await node.subscribe(aliceUser, 's1')
    const issued = await core.keys.create(alice.principal.userId)
    core.audit.record({ action: 'signal.read', result: 'ok', userId: alice.principal.userId, actor: 'alice' })
    await users.delete(admin, alice.principal.userId)
    await expect(users.get(admin, alice.principal.userId)).rejects.toMatchObject({ code: 'not_found' })
    expect(await node.database().models.ApiKey.count({ where: { user_id: alice.principal.userId } })).toBe(0)
    expect((await core.subscriptions.list(admin)).data).toEqual([])
    await expect(core.keys.verify(issued.key)).rejects.toMatchObject({ code: 'unauthenticated' })
    const rows = await node.audit({ action: 'signal.read' })
    expect(rows.map((r) => r.user_id)).toEqual([null])
    expect(rows[0].actor).toMatch(ERASED_ACTOR)
  })

  test('delete of a user who owns strategies is a conflict', async () => {
    const pub = await node.actor('pub', 'publisher')
    await node.strategy('s1', pub)
    await expect(users.delete(admin, pub.id)).rejects.toMatchObject({ code: 'conflict' })
  })

  test('resolve finds a user by name or id for the CLI', async () => {
    expect((await users.resolve(cliContext(), 'alice')).id).toBe(alice.principal.userId)
    expect((await users.resolve(cliContext(), String(alice.principal.userId))).name).toBe('alice')
    await expect(users.resolve(cliContext(), 'nobody')).rejects.toMatchObject({ code: 'not_found' })
  })

  test('me: profile lists keys, subscriptions and a notice for an expiring key', async () => {
    const me = core.me
    const first = await core.keys.create(alice.principal.userId)
    await core.keys.rotate(first.id)
    const profile = await me.profile(alice)
    expect(profile.user.name).toBe('alice')
    expect(profile.keys).toHaveLength(2)
    expect(profile.notices).toEqual([expect.objectContaining({ kind: 'key_expiring', key_id: first.id })])
    expect(JSON.stringify(profile)).not.toContain('hash')
  })

  test('me: export holds the user\'s data and erase removes it', async () => {
    const me = core.me
    await core.keys.create(alice.principal.userId)
    const pub = await node.actor('pub', 'publisher')
    await node.strategy('s1', pub)
    await core.subscriptions.add(alice, { strategy_id: 's1' })
    await core.jobs.run('reports', { now: new Date() })
    core.audit.record({ action: 'login', result: 'ok', userId: alice.principal.userId, actor: 'alice' })
    const data = await me.export(alice)
    expect(data.user.id).toBe(alice.principal.userId)
    expect(data.keys).toHaveLength(1)
    expect(data.reports[0].content).toMatchObject({ period: 'daily', total: 0, strategies: [{ strategy_id: 's1', total: 0 }] })
    expect(data.audit_logs.map((a) => a.action)).toContain('login')
    expect(JSON.stringify(data)).not.toMatch(/"hash"/)
    expect((await me.reports(alice)).data).toHaveLength(1)
    await expect(me.reports(alice, { user_id: admin.principal.userId })).rejects.toMatchObject({ code: 'forbidden' })
    await me.erase(alice)
    await expect(users.get(admin, alice.principal.userId)).rejects.toMatchObject({ code: 'not_found' })
    expect(await node.audit({ action: 'me.erase' })).toEqual([expect.objectContaining({ user_id: null, actor: expect.stringMatching(ERASED_ACTOR) })])
  })
})
