import { uniqueId, type TestUser } from '../../helpers/fixtures'
import { startTestHub, type TestHub } from '../../helpers/hub'
import { Inbox, publish, signalBody, subscribe, TestClients } from '../../helpers/mqtt-clients'

describe('mqtt acl', () => {
  let node: TestHub
  const clients = new TestClients()
  let owner: TestUser
  let rival: TestUser
  let reader: TestUser
  let admin: TestUser
  let open: string
  let other: string
  let limited: string

  beforeAll(async () => {
    node = await startTestHub()
    owner = await node.user('owner', 'publisher')
    rival = await node.user('rival', 'publisher')
    reader = await node.user('reader')
    admin = await node.user('root', 'admin')
    open = uniqueId('open')
    other = uniqueId('other')
    limited = uniqueId('limited')
    await node.strategy(open, owner)
    await node.strategy(other, rival)
    await node.strategy(limited, owner)
    await node.subscribe(reader, open)
    await node.subscribe(reader, limited, ['AAPL'])
  })
  afterEach(() => clients.endAll())
  afterAll(() => node.shutdown())

  const as = (user: TestUser) => clients.connect(node.mqttUrl, { password: user.key, clientId: uniqueId('acl-') })

  test.each([
    ['a subscribed strategy', () => `strategy/${open}/#`, 1],
    ['a subscribed strategy symbol', () => `strategy/${open}/AAPL`, 1],
    ['the own notices', () => 'users/${me}/notices', 1],
    ['everything (#)', () => '#', 128],
    ['a wildcard first level (+/x)', () => '+/x', 128],
    ['every strategy (strategy/#)', () => 'strategy/#', 128],
    ['another strategy', () => `strategy/${other}/#`, 128],
    ['an allowed symbol of a symbol-limited subscription', () => `strategy/${limited}/AAPL`, 1],
    ['another symbol of a symbol-limited subscription', () => `strategy/${limited}/MSFT`, 128],
    ['every symbol of a symbol-limited subscription', () => `strategy/${limited}/+`, 128],
    ['$SYS/#', () => '$SYS/#', 128],
    ['another user\'s notices', () => 'users/1/notices', 128]
  ])('a subscriber subscribing to %s gets SUBACK %i', async (_name, filter, expected) => {
    const client = await as(reader)
    const topic = filter().replace('${me}', String(reader.id))
    expect(await subscribe(client, [topic])).toEqual([expected])
  })

  test('a refused filter gets 0x80 while the other filters of the same SUBSCRIBE are granted', async () => {
    const client = await as(reader)
    expect(await subscribe(client, [`strategy/${open}/+`, '#', `strategy/${other}/X`, `users/${reader.id}/#`])).toEqual([1, 128, 128, 1])
    expect(client.connected).toBe(true)
  })

  test('an admin may subscribe to $SYS/# and #, a subscriber may not', async () => {
    const root = await as(admin)
    expect(await subscribe(root, ['$SYS/#', '#'])).toEqual([1, 1])
    const plain = await as(reader)
    expect(await subscribe(plain, ['$SYS/#'])).toEqual([128])
  })

  test('a publish to another owner\'s strategy is not delivered, not stored, and a notice explains it', async () => {
    const watcher = await as(admin)
    const inbox = new Inbox(watcher)
    await subscribe(watcher, [`strategy/${other}/#`])
    const intruder = await as(owner)
    const notices = new Inbox(intruder)
    await subscribe(intruder, [`users/${owner.id}/notices`])
    await publish(intruder, `strategy/${other}/AAPL`, signalBody())
    const notice = (await notices.next(`users/${owner.id}/notices`)).json()
    expect(notice).toMatchObject({ type: 'publish_rejected', topic: `strategy/${other}/AAPL`, code: 'forbidden' })
    // the owner's own publish arrives, and is the only one
    const legit = await as(rival)
    await publish(legit, `strategy/${other}/AAPL`, signalBody({ description: 'legit' }))
    expect((await inbox.next(`strategy/${other}/AAPL`)).json()).toMatchObject({ description: 'legit', seq: 1 })
    expect(inbox.count(`strategy/${other}/AAPL`)).toBe(0)
    expect(await node.database().models.Signal.count({ where: { strategy_id: other } })).toBe(1)
  })

  test('a publish outside strategy/ follows the policy: to $SYS it is refused with a notice, the connection stays', async () => {
    const client = await as(reader)
    const notices = new Inbox(client)
    await subscribe(client, [`users/${reader.id}/notices`])
    await publish(client, '$SYS/fake', 'x')
    expect((await notices.next(`users/${reader.id}/notices`)).json()).toMatchObject({ type: 'publish_rejected', code: 'forbidden' })
    expect(client.connected).toBe(true)
  })
})
