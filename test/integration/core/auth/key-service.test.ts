import { cliContext } from '../../../../core/action-context'
import type { Core } from '../../../../core/core'
import type { Change } from '../../../../core/change-bus'
import { startCore, type TestNode } from '../../../helpers/node'

describe('KeyService', () => {
  let node: TestNode
  let core: Core
  let clock: Date
  const hours = (h: number): void => { clock = new Date(clock.getTime() + h * 3_600_000) }

  beforeEach(async () => {
    clock = new Date('2026-11-21T00:00:00Z')
    node = await startCore({ KEY_GRACE_HOURS: '24', KEY_CACHE_MS: '5000' }, undefined, { now: () => clock })
    core = node.core
  })

  afterEach(async () => node.shutdown())

  const user = (name: string, role = 'publisher') => node.actor(name, role)

  test('verify with a freshly created key returns the principal of its user', async () => {
    const alice = await user('alice')
    const issued = await core.keys.create(alice.id, { label: 'laptop' })
    const p = await core.keys.verify(issued.key)
    expect(p).toMatchObject({ userId: alice.id, userName: 'alice', role: 'publisher', keyId: issued.id, keyPrefix: issued.prefix })
  })

  test('create stores only a hash: the secret is nowhere in the table', async () => {
    const alice = await user('alice')
    const issued = await core.keys.create(alice.id)
    const row = await node.database().models.ApiKey.findByPk(issued.id)
    const secret = /^shk_[^_]+_(.+)$/.exec(issued.key)?.[1] ?? ''
    expect(secret.length).toBeGreaterThan(30)
    expect(JSON.stringify(row?.toJSON())).not.toContain(secret)
  })

  test.each([undefined, null, '', 'x'.repeat(300), 'shk_aaaaaaaaaaaa_' + 'A'.repeat(43), 'Bearer nothing'])(
    'verify with %p fails as unauthenticated', async (raw) => {
      await expect(core.keys.verify(raw)).rejects.toMatchObject({ code: 'unauthenticated' })
    })

  test('verify with a known prefix but wrong secret fails as unauthenticated', async () => {
    const alice = await user('alice')
    const issued = await core.keys.create(alice.id)
    const forged = issued.key.slice(0, -2) + (issued.key.endsWith('AA') ? 'BB' : 'AA')
    await expect(core.keys.verify(forged)).rejects.toMatchObject({ code: 'unauthenticated' })
  })

  test('revoke makes a cached key fail at once on this node and announces the change', async () => {
    const alice = await user('alice')
    const issued = await core.keys.create(alice.id)
    await core.keys.verify(issued.key)
    const changes: Change[] = []
    core.bus.on('change', (c) => changes.push(c))
    await core.keys.revoke(issued.id)
    await expect(core.keys.verify(issued.key)).rejects.toMatchObject({ code: 'key_revoked' })
    expect(changes).toContainEqual({ kind: 'key', keyId: issued.id, userId: alice.id })
  })

  test('rotate gives a new working key and keeps the old one through the grace period, then fails it', async () => {
    const alice = await user('alice')
    const old = await core.keys.create(alice.id)
    const rotated = await core.keys.rotate(old.id)
    expect(rotated.key).not.toBe(old.key)
    await expect(core.keys.verify(rotated.key)).resolves.toMatchObject({ userId: alice.id })
    hours(23.9)
    await expect(core.keys.verify(old.key)).resolves.toMatchObject({ userId: alice.id })
    hours(0.2)
    await expect(core.keys.verify(old.key)).rejects.toMatchObject({ code: 'key_expired' })
    await expect(core.keys.verify(rotated.key)).resolves.toMatchObject({ userId: alice.id })
    const list = await core.keys.list(alice.id)
    expect(list.map((k) => k.status)).toEqual(['expiring', 'active'])
    expect(list[1].rotated_from_id).toBe(old.id)
  })

  test('a key with an expiry fails once it has passed, even while cached', async () => {
    const alice = await user('alice')
    const issued = await core.keys.create(alice.id, { expiresAt: new Date(clock.getTime() + 1000) })
    await core.keys.verify(issued.key)
    clock = new Date(clock.getTime() + 1001)
    await expect(core.keys.verify(issued.key)).rejects.toMatchObject({ code: 'key_expired' })
  })

  test('revokeExpired revokes keys past their deadline and only those', async () => {
    const alice = await user('alice')
    const due = await core.keys.create(alice.id, { expiresAt: new Date(clock.getTime() + 1000) })
    const fine = await core.keys.create(alice.id)
    hours(1)
    const revoked = await core.keys.revokeExpired()
    expect(revoked.map((k) => k.id)).toEqual([due.id])
    await expect(core.keys.verify(fine.key)).resolves.toBeDefined()
  })

  test('a disabled user\'s key fails with user_disabled at once, even while cached', async () => {
    const alice = await user('alice')
    const issued = await core.keys.create(alice.id)
    await core.keys.verify(issued.key)
    await core.users.update(cliContext(), alice.id, { status: 'disabled' })
    await expect(core.keys.verify(issued.key)).rejects.toMatchObject({ code: 'user_disabled' })
  })

  test('stillValid reflects revocation and disabling without the cache', async () => {
    const alice = await user('alice')
    const issued = await core.keys.create(alice.id)
    const p = await core.keys.verify(issued.key)
    expect(await core.keys.stillValid(p)).toBe(true)
    await node.database().models.ApiKey.update({ status: 'revoked' }, { where: { id: issued.id } })
    expect(await core.keys.stillValid(p)).toBe(false)
  })

  test('rotate of a revoked key is refused', async () => {
    const alice = await user('alice')
    const issued = await core.keys.create(alice.id)
    await core.keys.revoke(issued.id)
    await expect(core.keys.rotate(issued.id)).rejects.toMatchObject({ code: 'conflict' })
  })

  test('create for an unknown user is not_found', async () => {
    await expect(core.keys.create(9999)).rejects.toMatchObject({ code: 'not_found' })
  })
})

describe('bootstrap admin', () => {
  test('BOOTSTRAP_ADMIN_KEY seeds an admin holding exactly that key, once', async () => {
    const key = 'operator-chosen-admin-key-0123456789abcdef'
    const env = { BOOTSTRAP_ADMIN_KEY: key }
    const first = await startCore(env)
    await expect(first.core.keys.verify(key)).resolves.toMatchObject({ userName: 'admin', role: 'admin' })
    await first.stop()
    const second = await startCore(env, first.scratch)
    try {
      expect((await second.core.users.list(cliContext(), { role: 'admin' })).data.map((u) => u.name)).toEqual(['admin'])
      const rows = await second.database().models.ApiKey.findAll()
      expect(rows).toHaveLength(1)
      expect(rows[0].hash).not.toContain(key)
    } finally {
      await second.shutdown()
    }
  })
})
