import { ForeignKeyConstraintError, UniqueConstraintError } from 'sequelize'
import { AppError } from '../../../../core/errors'
import type { Principal } from '../../../../core/principal'
import type { SignalInput } from '../../../../core/signals/signal-schema'
import { SignalStore, type StoreRequest } from '../../../../core/signals/signal-store'
import { toSignalView, type SignalView } from '../../../../core/signals/signal-view'
import { Database } from '../../../../models/database'
import { migrate } from '../../../../models/migrate'
import { scratchDatabase, usingMysql, type ScratchDatabase } from '../../../helpers/database'

const mysqlOnly = usingMysql ? test : test.skip

/** The statement kinds of a log: its first words, with the dialect's quoting and transaction words made alike. */
function kinds(log: string[]): string[] {
  return log.map((sql) => sql.replace(/^Executing \([^)]*\): /, '').replace(/`/g, '').replace(/^BEGIN IMMEDIATE TRANSACTION/, 'START TRANSACTION'))
    .map((sql) => sql.startsWith('SELECT * FROM (SELECT id, strategy_id, seq FROM signals') ? 'SELECT newest signals' : sql.split(/ [(]|;| WHERE| SET /)[0])
}

/** MariaDB's INSERT answers with the new rows; MySQL 8's (and SQLite's, through Sequelize) does not, and they are read back. */
const sequences: Array<[string, boolean | undefined]> = usingMysql ? [['as detected', undefined], ['read back, as on MySQL 8', false]] : [['read back', undefined]]

describe.each(sequences)('SignalStore (%s)', (_name, insertReturning) => {
  let scratch: ScratchDatabase
  let db: Database
  let store: SignalStore
  let log: string[]
  let alice: Principal
  let bob: Principal
  const now = () => new Date()

  const item = (over: Partial<SignalInput> = {}): SignalInput => ({
    strategy_id: 'alpha', symbol: 'AAPL', type: 'buy', execute_date: new Date('2026-11-21T01:30:00.123Z'), description: 'enter', payload: null, ...over
  })
  const request = (principal: Principal, items: SignalInput[], key?: string): StoreRequest => ({ principal, items, key, hash: key === undefined ? '' : `hash-${key}`, batch: items.length > 1 })

  async function user(name: string): Promise<Principal> {
    const u = await db.models.User.create({ name, contact: null, role: 'publisher' })
    return { userId: u.id, userName: name, role: 'publisher', keyId: null, keyPrefix: null }
  }

  async function open(onConnect?: (connection: unknown) => Promise<void>): Promise<void> {
    db = new Database(scratch.url, { logSql: (sql) => log.push(sql), insertReturning })
    if (onConnect !== undefined) db.sequelize.addHook('afterConnect', onConnect)
    await migrate(db)
    store = new SignalStore(db, now)
    alice = await user('alice')
    bob = await user('bob')
    for (const id of ['alpha', 'beta', 'gamma']) await db.models.Strategy.create({ id, name: id, owner_id: alice.userId })
    await db.insertReturning()
    log = []
  }

  beforeEach(async () => {
    log = []
    scratch = await scratchDatabase()
  })

  afterEach(async () => {
    await store.settled()
    await db.close()
    await scratch.drop()
  })

  /** Every view is exactly the stored row it names, and the outbox holds exactly these signals. */
  async function expectStored(views: SignalView[]): Promise<void> {
    const rows = await db.models.Signal.findAll({ where: { id: views.map((v) => v.id) } })
    const stored = new Map(rows.map((r) => [r.id, toSignalView(r)]))
    expect(views.map((v) => stored.get(v.id))).toEqual(views)
    const waiting = await db.models.SignalOutbox.findAll()
    expect(waiting.map((w) => w.signal_id).sort((a, b) => a - b)).toEqual(views.map((v) => v.id).sort((a, b) => a - b))
  }

  /** Each strategy's stored seqs are 1..last_seq, once each. */
  async function expectGapless(): Promise<void> {
    for (const s of await db.models.Strategy.findAll()) {
      const seqs = (await db.models.Signal.findAll({ where: { strategy_id: s.id }, order: [['seq', 'ASC']] })).map((r) => r.seq)
      expect(seqs).toEqual(Array.from({ length: s.last_seq }, (_v, i) => i + 1))
    }
  }

  test('a group, with or without an idempotency key, runs the same statements, none holding a value', async () => {
    await open()
    const hostile = "it's \\ '); DELETE FROM signals; -- $1 行情 📈"
    await store.store(request(alice, [item({ description: hostile }), item({ strategy_id: 'beta', symbol: hostile.slice(0, 4) })]))
    const plain = kinds(log)
    log = []
    await store.store(request(alice, [item({ description: hostile })], 'key-1'))
    const keyed = kinds(log)
    const readBack = await db.insertReturning() ? [] : ['SELECT newest signals']
    expect(plain).toEqual(['START TRANSACTION', 'UPDATE strategies', 'INSERT INTO signals', ...readBack, 'INSERT INTO signal_outbox', 'COMMIT'])
    expect(keyed).toEqual([...plain.slice(0, -1), 'INSERT INTO idempotency_keys', 'COMMIT'])
    expect(log.find((sql) => sql.includes('INSERT INTO `signals`'))?.includes('RETURNING')).toBe(readBack.length === 0)
    expect(log.some((sql) => sql.includes('DELETE FROM signals') || sql.includes('alpha') || sql.includes('2026'))).toBe(false)
    const stored = await db.models.Signal.findAll({ order: [['id', 'ASC']] })
    expect(stored.map((s) => s.description)).toEqual([hostile, 'enter', hostile])
  })

  test('concurrent groups over several strategies, every seq taken once with no gap; ids, fields and outbox as stored', async () => {
    await open()
    const strategies = ['alpha', 'beta', 'gamma']
    const results = await Promise.all(Array.from({ length: 60 }, (_v, i) => store.store(request(i % 2 === 0 ? alice : bob,
      i % 5 === 0
        ? [item({ description: `b${i}`, payload: { i } }), item({ strategy_id: strategies[1 + (i % 2)], symbol: `S${i}` }), item({ description: `c${i}` })]
        : [item({ strategy_id: strategies[i % 3], description: `n${i}`, payload: [i, 'x'] })]))))
    const views = results.flat()
    expect(new Set(views.map((v) => v.id)).size).toBe(views.length)
    await expectStored(views)
    await expectGapless()
    const last = await db.models.Strategy.findAll({ order: [['id', 'ASC']] })
    expect(last.map((s) => s.last_seq).reduce((a, b) => a + b, 0)).toBe(views.length)
    // a request's signals of one strategy have consecutive seqs, in request order
    for (const r of results.filter((v) => v.length === 3)) expect(r[2].seq).toBe(r[0].seq + 1)
  })

  test('milliseconds of execute_date and created_at survive the round trip', async () => {
    await open()
    const [view] = await store.store(request(alice, [item({ execute_date: new Date('2026-11-21T01:30:00.987Z') })]))
    const row = await db.models.Signal.findByPk(view.id)
    expect(row?.execute_date.toISOString()).toBe('2026-11-21T01:30:00.987Z')
    expect(row?.created_at.toISOString()).toBe(view.created_at)
    const outbox = await db.models.SignalOutbox.findByPk(view.id)
    expect(outbox?.created_at.toISOString()).toBe(view.created_at)
  })

  mysqlOnly('ids several apart (auto_increment_increment 7), still answered exactly as stored', async () => {
    await open(async (connection) => {
      await (connection as { promise(): { query(sql: string): Promise<unknown> } }).promise().query('SET SESSION auto_increment_increment = 7')
    })
    const results = await Promise.all(Array.from({ length: 20 }, (_v, i) => store.store(request(alice, [item({ description: `n${i}` }), item({ strategy_id: 'beta' })]))))
    const views = results.flat()
    const ids = views.map((v) => v.id).sort((a, b) => a - b)
    expect(ids.slice(1).every((id, i) => id - ids[i] >= 7)).toBe(true)
    await expectStored(views)
    await expectGapless()
  })

  test('a strategy deleted meanwhile, fails only its own request as a validation error; the group\'s other requests are written', async () => {
    await open()
    await db.sequelize.query("DELETE FROM strategies WHERE id = 'gamma'")
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_v, i) => store.store(request(alice, [item({ strategy_id: i === 8 ? 'gamma' : 'alpha', description: `n${i}` })]))))
    expect(outcomes.map((o) => o.status)).toEqual(Array.from({ length: 10 }, (_v, i) => i === 8 ? 'rejected' : 'fulfilled'))
    const reason = (outcomes[8] as PromiseRejectedResult).reason as AppError
    expect(reason).toBeInstanceOf(AppError)
    expect(reason).toMatchObject({ code: 'validation_failed', message: 'unknown strategy gamma' })
    await expectStored(outcomes.flatMap((o) => o.status === 'fulfilled' ? o.value : []))
    await expectGapless()
    expect((await db.models.Strategy.findByPk('alpha'))?.last_seq).toBe(9)
  })

  test('an idempotency key raced by two requests in one group, stores it once: the other fails as a unique violation, the rest are written', async () => {
    await open()
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: 6 }, (_v, i) => store.store(request(bob, [item({ strategy_id: 'beta', description: `n${i}` })]))),
      store.store(request(alice, [item({ description: 'first' })], 'same')),
      store.store(request(alice, [item({ description: 'second' })], 'same')),
      store.store(request(bob, [item({ strategy_id: 'beta', description: 'last' })]))
    ])
    const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')
    expect(failed).toHaveLength(1)
    expect(failed[0].reason).toBeInstanceOf(UniqueConstraintError)
    expect(await db.models.IdempotencyKey.count()).toBe(1)
    expect(await db.models.Signal.count({ where: { strategy_id: 'alpha' } })).toBe(1)
    const replayed = await store.replay(alice, 'same', 'hash-same')
    expect(replayed?.map((v) => v.description)).toEqual([outcomes[6].status === 'fulfilled' ? 'first' : 'second'])
    await expectStored(outcomes.flatMap((o) => o.status === 'fulfilled' ? o.value : []))
    await expectGapless()
  })

  test('a publisher deleted meanwhile, fails only its request (foreign key); the others are written', async () => {
    await open()
    const gone: Principal = { ...bob, userId: bob.userId + 1000 }
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, (_v, i) => store.store(request(i === 6 ? gone : alice, [item({ description: `n${i}` })]))))
    expect(outcomes.map((o) => o.status)).toEqual(Array.from({ length: 8 }, (_v, i) => i === 6 ? 'rejected' : 'fulfilled'))
    expect((outcomes[6] as PromiseRejectedResult).reason).toBeInstanceOf(ForeignKeyConstraintError)
    await expectGapless()
  })

  test('a failure of the database itself, fails the whole group at once without writing its requests one by one', async () => {
    await open()
    await db.sequelize.getQueryInterface().renameTable('signal_outbox', 'signal_outbox_away')
    log = []
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, (_v, i) => store.store(request(alice, [item({ description: `n${i}` })]))))
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true)
    const updates = kinds(log).filter((k) => k === 'UPDATE strategies').length
    await db.sequelize.getQueryInterface().renameTable('signal_outbox_away', 'signal_outbox')
    // one write per group that was formed, never one per request of a failed group
    expect(updates).toBeLessThan(8)
    expect(await db.models.Signal.count()).toBe(0)
    expect((await db.models.Strategy.findByPk('alpha'))?.last_seq).toBe(0)
  })
})
