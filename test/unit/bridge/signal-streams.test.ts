import { formatEvent, parseLastEventId } from '../../../bridge/signal-streams'

describe('parseLastEventId', () => {
  test.each([
    ['alpha:12', { strategyId: 'alpha', seq: 12 }],
    ['a.b-c_d:0', { strategyId: 'a.b-c_d', seq: 0 }],
    ['alpha', null],
    ['alpha:', null],
    [':3', null],
    ['al/pha:3', null],
    ['alpha:-1', null],
    ['alpha:1e3', null]
  ])('%p → %p', (text, expected) => {
    expect(parseLastEventId(text)).toEqual(expected)
  })
})

test('formatEvent writes id, event and one data line', () => {
  const text = formatEvent({ id: 1, seq: 7, strategy_id: 's', symbol: 'X', type: 'buy', execute_date: 'e', description: 'two\nlines', payload: null, publisher: 2, created_at: 'c' })
  expect(text.startsWith('id: s:7\nevent: signal\ndata: {"id":1,"seq":7,')).toBe(true)
  expect(text.endsWith('}\n\n')).toBe(true)
  expect(text.split('\n')).toHaveLength(5)
})
