import { AuditTrail } from '../../../../core/audit/audit-trail'
import type { Core } from '../../../../core/core'
import type { Models } from '../../../../models/database'
import { startCore, type TestNode } from '../../../helpers/node'
import { waitFor } from '../../../helpers/wait'

describe('AuditTrail', () => {
  let node: TestNode
  let core: Core

  /** The stored rows, read on the test's own connection. */
  const stored = (): Models => node.database().models

  beforeEach(async () => {
    node = await startCore()
    core = node.core
  })

  afterEach(async () => {
    await node.shutdown()
  })

  test('record then flush writes every entry once, with its time to the millisecond', async () => {
    const at = new Date('2026-11-21T01:02:03.456Z')
    for (let i = 0; i < 3; i++) core.audit.record({ action: 'test.entry', result: 'ok', resource: `r/${i}`, at, detail: { i } })
    await core.audit.flush()
    await core.audit.flush()
    const rows = await stored().AuditLog.findAll({ where: { action: 'test.entry' }, order: [['id', 'ASC']] })
    expect(rows.map((r) => r.resource)).toEqual(['r/0', 'r/1', 'r/2'])
    expect(rows.map((r) => r.at.toISOString())).toEqual([at.toISOString(), at.toISOString(), at.toISOString()])
    expect(JSON.parse(rows[2].detail ?? '{}')).toEqual({ i: 2 })
  })

  test('fields longer than their columns are cut, so one long value cannot hold the batch back', async () => {
    const long = 'x'.repeat(300)
    core.audit.record({ action: `test.${long}`, result: 'ok', actor: long, resource: long, ip: long, clientId: long, requestId: long })
    core.audit.record({ action: 'test.after', result: 'ok' })
    await core.audit.flush()
    const rows = (await stored().AuditLog.findAll({ order: [['id', 'ASC']] })).filter((r) => r.action.startsWith('test.'))
    expect(rows.map((r) => [r.action.length, r.actor?.length, r.resource?.length, r.ip?.length, r.client_id?.length, r.request_id?.length]))
      .toEqual([[64, 100, 255, 64, 128, 64], [10, undefined, undefined, undefined, undefined, undefined]])
  })

  test('hostile text is stored exactly as given', async () => {
    const texts = ["O'Brien", 'back\\slash \\\' quote', 'line\nbreak\ttab\r', '"double"', '; DROP TABLE audit_logs; --', '信号 🚀', '\u001a ctrl-z', '%_ like', 'nul\u0000byte', '$1 $2 ? :name', '']
    texts.forEach((t) => core.audit.record({ action: 'test.text', result: 'ok', resource: t, detail: { t } }))
    await core.audit.flush()
    const rows = await stored().AuditLog.findAll({ where: { action: 'test.text' }, order: [['id', 'ASC']] })
    expect(rows.map((r) => r.resource)).toEqual(texts)
    expect(rows.map((r) => (JSON.parse(r.detail ?? '{}') as { t: string }).t)).toEqual(texts)
  })

  test('a detail that cannot be JSON is replaced by a note; the entry and those after it are written', async () => {
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    core.audit.record({ action: 'test.bigint', result: 'ok', detail: { n: 10n } })
    core.audit.record({ action: 'test.cycle', result: 'ok', detail: cycle })
    core.audit.record({ action: 'test.after', result: 'ok', detail: { i: 1 } })
    await core.audit.flush()
    const rows = (await stored().AuditLog.findAll({ order: [['id', 'ASC']] })).filter((r) => r.action.startsWith('test.'))
    expect(rows.map((r) => r.action)).toEqual(['test.bigint', 'test.cycle', 'test.after'])
    expect(rows.map((r) => Object.keys(JSON.parse(r.detail ?? '{}') as object))).toEqual([['unserialisable_detail'], ['unserialisable_detail'], ['i']])
  })

  test('a batch that cannot be written is kept and written by a later flush', async () => {
    const tables = node.database().sequelize.getQueryInterface()
    await tables.renameTable('audit_logs', 'audit_logs_away')
    core.audit.record({ action: 'test.kept', result: 'ok' })
    await core.audit.flush()
    await tables.renameTable('audit_logs_away', 'audit_logs')
    expect(await stored().AuditLog.count({ where: { action: 'test.kept' } })).toBe(0)
    await core.audit.flush()
    expect(await stored().AuditLog.count({ where: { action: 'test.kept' } })).toBe(1)
  })

  test('under a steady stream of entries every INSERT carries a full batch; the rest waits for the timer or a flush', async () => {
    // a trail of the test's own, on the test's connection, so that the test can watch its INSERTs
    const db = node.database()
    const insert = jest.spyOn(db, 'insertValues')
    const trail = new AuditTrail(db)
    trail.start()
    const inserts = (): number[] => insert.mock.calls.filter(([table]) => table === 'audit_logs').map(([, , rows]) => rows.length)
    let written: number[]
    try {
      for (let i = 0; i < 350; i++) {
        trail.record({ action: 'test.stream', result: 'ok', detail: { i } })
        // the writes of earlier batches run while entries keep coming
        if (i % 7 === 0) await new Promise((resolve) => setImmediate(resolve))
      }
      await waitFor(() => inserts().length >= 3, 5000, 10, 'three full batches written')
      await trail.flush()
      written = inserts()
    } finally {
      await trail.stop()
      insert.mockRestore()
    }
    expect(written).toEqual([100, 100, 100, 50])
    const rows = await stored().AuditLog.findAll({ where: { action: 'test.stream' }, order: [['id', 'ASC']] })
    expect(rows.map((r) => (JSON.parse(r.detail ?? '{}') as { i: number }).i)).toEqual(Array.from({ length: 350 }, (_, i) => i))
  })
})
