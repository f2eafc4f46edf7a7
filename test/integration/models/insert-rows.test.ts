import { Database, type SqlValue } from '../../../models/database'
import { migrate } from '../../../models/migrate'
import { scratchDatabase, type ScratchDatabase } from '../../helpers/database'

/** Database.insertRows writes literals itself; what the models read back must be exactly what was given. */
describe('Database.insertRows', () => {
  let scratch: ScratchDatabase
  let db: Database

  beforeAll(async () => {
    scratch = await scratchDatabase()
    db = new Database(scratch.url)
    await migrate(db)
  })

  afterAll(async () => {
    await db.close()
    await scratch.drop()
  })

  const columns = ['at', 'action', 'result', 'user_id', 'detail'] as const

  test('dates keep their milliseconds in UTC and read back as the same instants, also outside the common years', async () => {
    const instants = ['2026-11-21T01:02:03.456Z', '1970-01-01T00:00:00.000Z', '2026-12-31T23:59:59.999Z', '1000-01-01T00:00:00.001Z', '9999-12-31T23:59:59.998Z']
    await db.insertRows('audit_logs', columns, instants.map((iso) => [new Date(iso), 'dates.check', 'ok', null, null]))
    const rows = await db.models.AuditLog.findAll({ where: { action: 'dates.check' }, order: [['id', 'ASC']] })
    expect(rows.map((r) => r.at.toISOString())).toEqual(instants)
  })

  test('strings, numbers, booleans and null are written as given; hostile text is data, not SQL', async () => {
    const texts = ["it's", 'a\\b', 'quote " and \\\' mixed', 'nul\u0000byte', 'ctrl-z \u001a', 'x\'); DELETE FROM audit_logs; --', '行情 📈', '']
    await db.insertRows('audit_logs', columns, texts.map((t, i) => [new Date(), 'text.check', 'ok', i, t]))
    await db.insertRows('audit_logs', columns, [[new Date(), 'bool.check', 'ok', null, true], [new Date(), 'bool.check', 'ok', null, false]])
    const rows = await db.models.AuditLog.findAll({ where: { action: 'text.check' }, order: [['id', 'ASC']] })
    expect(rows.map((r) => [r.user_id, r.detail])).toEqual(texts.map((t, i) => [i, t]))
    const bools = await db.models.AuditLog.findAll({ where: { action: 'bool.check' }, order: [['id', 'ASC']] })
    expect(bools.map((r) => r.detail)).toEqual(['1', '0'])
    expect(await db.models.AuditLog.count({ where: { action: 'dates.check' } })).toBe(5)
  })

  test('the ids of one statement follow from its result where insertIdStep says they are consecutive', async () => {
    const step = await db.insertIdStep()
    const result = await db.insertRows('audit_logs', columns, [0, 1, 2, 3].map((i) => [new Date(), 'ids.check', 'ok', i, null]))
    const rows = await db.models.AuditLog.findAll({ where: { action: 'ids.check' }, order: [['user_id', 'ASC']] })
    const ids = db.insertedIds(result, 4, step)
    if (step === null) expect(ids).toBeNull()
    else expect(ids).toEqual(rows.map((r) => r.id))
  })

  test('a number that is not finite is refused before anything is written', async () => {
    await expect(db.insertRows('audit_logs', columns, [[new Date(), 'nan.check', 'ok', Number.NaN, null]])).rejects.toThrow(TypeError)
    await expect(db.insertRowsPrepared('audit_logs', columns, [[new Date(), 'nan.check', 'ok', Number.POSITIVE_INFINITY, null]])).rejects.toThrow(TypeError)
    expect(await db.models.AuditLog.count({ where: { action: 'nan.check' } })).toBe(0)
  })

  test('insertRowsPrepared writes the same values as insertRows, again and again with one statement', async () => {
    const texts = ["it's", 'a\\b', 'nul\u0000byte', 'ctrl-z \u001a', 'x\'); DELETE FROM audit_logs; --', '$1 $2', '行情 📈', '']
    const at = new Date('2026-11-21T01:02:03.456Z')
    const rows = (tag: string) => texts.map((t, i): SqlValue[] => [at, tag, 'ok', i, t])
    await db.insertRows('audit_logs', columns, rows('plain.check'))
    for (let n = 0; n < 3; n++) await db.insertRowsPrepared('audit_logs', columns, rows('prepared.check'))
    await db.insertRowsPrepared('audit_logs', columns, [[at, 'prepared.bool', 'ok', null, true], [at, 'prepared.bool', 'ok', null, false]])
    const read = async (action: string) => (await db.models.AuditLog.findAll({ where: { action }, order: [['id', 'ASC']] }))
      .map((r) => [r.at.toISOString(), r.user_id, r.detail])
    const plain = await read('plain.check')
    expect(plain).toEqual(texts.map((t, i) => [at.toISOString(), i, t]))
    expect(await read('prepared.check')).toEqual([...plain, ...plain, ...plain])
    expect((await read('prepared.bool')).map((r) => r[2])).toEqual(['1', '0'])
  })
})
