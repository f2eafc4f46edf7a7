import type { z } from 'zod'
import { AppError } from './errors'

/**
 * Validates management input inside the core, so REST and the CLI get the same
 * checks and the same `validation_failed` issues.
 */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issues = result.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }))
  throw new AppError('validation_failed', issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('; '), { issues })
}
