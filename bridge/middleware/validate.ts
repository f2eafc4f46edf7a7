import type { z } from 'zod'
import { AppError, type FieldIssue } from '../../core/errors'

/** The zod issues of a failed parse as field issues (`path` joined with dots). */
export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }))
}

/** Parses `value` with `schema`; throws `validation_failed` (422) listing every issue. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, detail = 'invalid request'): z.output<S> {
  const result = schema.safeParse(value)
  if (!result.success) throw new AppError('validation_failed', detail, { issues: fieldIssues(result.error) })
  return result.data
}
