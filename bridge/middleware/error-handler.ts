import type { NextFunction, Request, Response } from 'express'
import { toAppError, type AppError } from '../../core/errors'
import { logger } from '../../core/logger'
import { preferredLanguage } from '../i18n'
import { PROBLEM_CONTENT_TYPE, toProblem } from '../problem'

/**
 * The one place errors become responses: application/problem+json with the title in the
 * caller's language. Unexpected errors are logged with the request id and sent as
 * `internal` without their message or stack. A database that cannot be reached (refused,
 * timed out, link lost) is `service_unavailable` (503) with Retry-After: the client may retry.
 */
export function errorHandler(err: unknown, req: Request, res: Response, next: NextFunction): void {
  const error: AppError = toAppError(err)
  const requestId = res.locals.requestId ?? ''
  if (error.status >= 500) {
    const cause = error.cause instanceof Error ? error.cause : err
    logger.error('http: request failed', { requestId, method: req.method, path: req.path, err: cause instanceof Error ? { message: cause.message, stack: cause.stack } : String(cause) })
  }
  if (res.headersSent) {
    next(err)
    return
  }
  const language = preferredLanguage(req.get('accept-language'))
  for (const [name, value] of Object.entries(error.headers ?? {})) res.setHeader(name, value)
  res.status(error.status)
  res.setHeader('Content-Type', PROBLEM_CONTENT_TYPE)
  res.setHeader('Content-Language', language === 'zh' ? 'zh-CN' : 'en')
  res.vary('Accept-Language')
  res.send(JSON.stringify(toProblem(error, language, requestId)))
}
