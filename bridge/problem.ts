import { ERROR_CATALOGUE, type AppError, type FieldIssue } from '../core/errors'
import type { Language } from './i18n'

/** An RFC 9457 problem document as Signal Hub sends it. */
export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  code: string
  request_id: string
  issues?: FieldIssue[]
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

/** The `type` URI of a code: stable, one per catalogue entry. */
export function problemType(code: string): string {
  return `urn:signal-hub:problem:${code}`
}

/**
 * The problem document of an error. Internal errors never show their message:
 * it may hold SQL, a path or a stack; the request id lets an operator find the log line.
 */
export function toProblem(err: AppError, language: Language, requestId: string): Problem {
  const spec = ERROR_CATALOGUE[err.code]
  const detail = err.code === 'internal' ? 'An unexpected error occurred; quote the request id when reporting it.' : err.message
  const problem: Problem = {
    type: problemType(err.code),
    title: spec.title[language],
    status: spec.status,
    detail,
    code: err.code,
    request_id: requestId
  }
  if (err.issues !== undefined && err.issues.length > 0) problem.issues = err.issues
  return problem
}
