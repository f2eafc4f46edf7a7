import type { Core } from '../../../../core/core'
import type { ActionContext } from '../../../../core/action-context'
import type { PermissionService } from '../../../../core/permissions/permission-service'
import type { KeyManagement } from '../../../../core/users/key-management'
import { startCore, type TestNode } from '../../../helpers/node'

describe('PermissionService', () => {
  let node: TestNode
  let core: Core
  let permissions: PermissionService
  let admin: ActionContext
  let sub: ActionContext

  beforeEach(async () => {
    node = await startCore()
    core = node.core
    permissions = core.permissions
    admin = (await node.actor('root', 'admin')).ctx
    sub = (await node.actor('sub', 'subscriber')).ctx
  })

  afterEach(async () => node.shutdown())

  test('roles: list the seeded ones, create one, refuse a duplicate', async () => {
    expect((await permissions.listRoles(admin)).map((r) => r.name)).toEqual(['admin', 'publisher', 'subscriber'])
    const role = await permissions.createRole(admin, { name: 'auditor', description: 'reads logs' })
    expect(role).toMatchObject({ name: 'auditor', description: 'reads logs' })
    await expect(permissions.createRole(admin, { name: 'auditor' })).rejects.toMatchObject({ code: 'conflict' })
    await expect(permissions.createRole(admin, { name: 'Bad Name' })).rejects.toMatchObject({ code: 'validation_failed' })
  })

  test('every operation is admin only', async () => {
    await expect(permissions.listRoles(sub)).rejects.toMatchObject({ code: 'forbidden' })
    await expect(permissions.createRole(sub, { name: 'x' })).rejects.toMatchObject({ code: 'forbidden' })
    await expect(permissions.list(sub, { role: 'subscriber' })).rejects.toMatchObject({ code: 'forbidden' })
    await expect(permissions.add(sub, { userId: sub.principal.userId }, { action: 'admin', topic: '#', effect: 'allow' })).rejects.toMatchObject({ code: 'forbidden' })
    await expect(permissions.remove(sub, 1)).rejects.toMatchObject({ code: 'forbidden' })
  })

  test('a user permission takes effect at once and is removed again', async () => {
    expect(core.policy.current.can(sub.principal, 'publish', 'devices/1/cmd')).toBe(false)
    const p = await permissions.add(admin, { userId: sub.principal.userId }, { action: 'publish', topic: 'devices/+/cmd', effect: 'allow' })
    expect(p).toMatchObject({ user_id: sub.principal.userId, role: null, action: 'publish', topic: 'devices/+/cmd', effect: 'allow' })
    expect(core.policy.current.can(sub.principal, 'publish', 'devices/1/cmd')).toBe(true)
    expect((await permissions.list(admin, { userId: sub.principal.userId })).map((x) => x.id)).toEqual([p.id])
    await expect(permissions.add(admin, { userId: sub.principal.userId }, { action: 'publish', topic: 'devices/+/cmd', effect: 'allow' })).rejects.toMatchObject({ code: 'conflict' })
    await permissions.remove(admin, p.id, { userId: sub.principal.userId })
    expect(core.policy.current.can(sub.principal, 'publish', 'devices/1/cmd')).toBe(false)
  })

  test('a role deny wins over its allow, with placeholders', async () => {
    const deny = await permissions.add(admin, { role: 'subscriber' }, { action: 'subscribe', topic: 'users/${user_id}/notices', effect: 'deny' })
    expect(deny.role).toBe('subscriber')
    expect(core.policy.current.can(sub.principal, 'subscribe', `users/${sub.principal.userId}/notices`)).toBe(false)
    expect(core.policy.current.can(sub.principal, 'subscribe', `users/${sub.principal.userId}/reports`)).toBe(true)
    await expect(permissions.remove(admin, deny.id, { role: 'publisher' })).rejects.toMatchObject({ code: 'not_found' })
    await permissions.remove(admin, deny.id)
    expect(core.policy.current.can(sub.principal, 'subscribe', `users/${sub.principal.userId}/notices`)).toBe(true)
  })

  test('invalid rules and unknown grantees are refused', async () => {
    for (const topic of ['a/#/b', 'a+', '', 'x'.repeat(256)]) {
      await expect(permissions.add(admin, { role: 'subscriber' }, { action: 'read', topic, effect: 'allow' })).rejects.toMatchObject({ code: 'validation_failed' })
    }
    await expect(permissions.add(admin, { role: 'subscriber' }, { action: 'fly' as 'read', topic: 'a', effect: 'allow' })).rejects.toMatchObject({ code: 'validation_failed' })
    await expect(permissions.add(admin, { role: 'subscriber' }, { action: 'read', topic: 'a', effect: 'maybe' as 'allow' })).rejects.toMatchObject({ code: 'validation_failed' })
    await expect(permissions.list(admin, { role: 'nope' })).rejects.toMatchObject({ code: 'not_found' })
    await expect(permissions.list(admin, { userId: 999999 })).rejects.toMatchObject({ code: 'not_found' })
  })
})

describe('KeyManagement and ClientBindingService', () => {
  let node: TestNode
  let core: Core
  let keys: KeyManagement
  let admin: ActionContext
  let sub: ActionContext
  let other: ActionContext

  beforeEach(async () => {
    node = await startCore()
    core = node.core
    keys = core.apiKeys
    admin = (await node.actor('root', 'admin')).ctx
    sub = (await node.actor('sub', 'subscriber')).ctx
    other = (await node.actor('other', 'subscriber')).ctx
  })

  afterEach(async () => node.shutdown())

  test('a user creates, rotates and revokes its own keys; the audit never holds the secret', async () => {
    const issued = await keys.create(sub, sub.principal.userId, { label: 'laptop' })
    await expect(core.keys.verify(issued.key)).resolves.toMatchObject({ userId: sub.principal.userId })
    const rotated = await keys.rotate(sub, issued.id)
    expect(rotated.previous.status).toBe('expiring')
    await expect(core.keys.verify(rotated.key)).resolves.toMatchObject({ userId: sub.principal.userId })
    await keys.revoke(sub, rotated.id)
    await expect(core.keys.verify(rotated.key)).rejects.toMatchObject({ code: 'key_revoked' })
    expect((await keys.list(sub, sub.principal.userId)).map((k) => k.status)).toEqual(['expiring', 'revoked'])
    const rows = (await node.audit()).filter((a) => a.action.startsWith('key.')).reverse()
    expect(rows.map((r) => [r.action, r.user_id])).toEqual([['key.create', sub.principal.userId], ['key.rotate', sub.principal.userId], ['key.revoke', sub.principal.userId]])
    const text = JSON.stringify(await node.audit())
    expect(text).not.toContain(issued.key)
    expect(text).not.toContain(rotated.key)
  })

  test('another user\'s keys are out of reach; an admin manages all', async () => {
    const issued = await keys.create(admin, sub.principal.userId)
    await expect(keys.create(other, sub.principal.userId)).rejects.toMatchObject({ code: 'forbidden' })
    await expect(keys.list(other, sub.principal.userId)).rejects.toMatchObject({ code: 'forbidden' })
    await expect(keys.rotate(other, issued.id)).rejects.toMatchObject({ code: 'forbidden' })
    await expect(keys.revoke(other, issued.id)).rejects.toMatchObject({ code: 'forbidden' })
    await keys.revoke(admin, issued.id)
    await expect(keys.revoke(admin, 999999)).rejects.toMatchObject({ code: 'not_found' })
  })

  test('expires_at must be a future ISO time', async () => {
    await expect(keys.create(sub, sub.principal.userId, { expires_at: '2001-01-01T00:00:00Z' })).rejects.toMatchObject({ code: 'validation_failed' })
    await expect(keys.create(sub, sub.principal.userId, { expires_at: 'tomorrow' })).rejects.toMatchObject({ code: 'validation_failed' })
    const later = new Date(Date.now() + 86_400_000).toISOString()
    expect((await keys.create(sub, sub.principal.userId, { expires_at: later })).expires_at).toBe(later)
  })

  test('client bindings: listed for their user, released by an admin with an announcement', async () => {
    const bindings = core.clientBindings
    expect(await bindings.claim('dev-1', sub.principal.userId)).toBe(true)
    expect((await bindings.list(sub, sub.principal.userId)).map((b) => b.client_id)).toEqual(['dev-1'])
    await expect(bindings.list(other, sub.principal.userId)).rejects.toMatchObject({ code: 'forbidden' })
    await expect(bindings.release(sub, 'dev-1')).rejects.toMatchObject({ code: 'forbidden' })
    const changes: unknown[] = []
    core.bus.on('change', (c) => changes.push(c))
    await bindings.release(admin, 'dev-1')
    expect(changes).toEqual([{ kind: 'client-binding', clientId: 'dev-1' }])
    await expect(bindings.release(admin, 'dev-1')).rejects.toMatchObject({ code: 'not_found' })
  })
})
