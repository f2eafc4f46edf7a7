import { AppError } from '../../../core/errors'
import { problemType, toProblem } from '../../../bridge/problem'

describe('toProblem', () => {
  test('an AppError keeps its detail and issues, with the title in the language asked for', () => {
    const err = new AppError('validation_failed', 'invalid signal', { issues: [{ path: 'symbol', message: 'bad' }] })
    expect(toProblem(err, 'zh', 'r1')).toEqual({
      type: problemType('validation_failed'), title: '参数校验失败', status: 422, detail: 'invalid signal', code: 'validation_failed', request_id: 'r1',
      issues: [{ path: 'symbol', message: 'bad' }]
    })
  })

  test('an internal error hides its message', () => {
    const problem = toProblem(new AppError('internal', 'SELECT * FROM secrets failed at /srv/app.ts:12'), 'en', 'r2')
    expect(problem.detail).not.toContain('SELECT')
    expect(problem.status).toBe(500)
    expect(problem.issues).toBeUndefined()
  })
})
