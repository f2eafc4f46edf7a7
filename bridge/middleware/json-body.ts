import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express'
import { AppError } from '../../core/errors'

/** Largest JSON body accepted: a full batch of 1000 signals with modest payloads. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024

interface BodyParserError extends Error {
  type?: string
}

function translate(err: BodyParserError): AppError {
  switch (err.type) {
    case 'entity.verify.failed': return new AppError('malformed_json', 'the request body is not valid UTF-8', { cause: err })
    case 'entity.parse.failed': return new AppError('malformed_json', 'the request body is not valid JSON', { cause: err })
    case 'entity.too.large': return new AppError('payload_too_large', `the request body is larger than ${MAX_BODY_BYTES} bytes`, { cause: err })
    case 'encoding.unsupported':
    case 'charset.unsupported': return new AppError('unsupported_media_type', err.message, { cause: err })
    default: return new AppError('bad_request', 'the request body could not be read', { cause: err })
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Refuses bodies that are not valid UTF-8, which body-parser would otherwise quietly repair with U+FFFD. */
function verifyUtf8(_req: Request, _res: Response, body: Buffer): void {
  utf8.decode(body)
}

/**
 * Parses JSON bodies (objects and arrays) up to MAX_BODY_BYTES with body-parser; its
 * failures become catalogue errors. When the client goes away before its whole body has
 * arrived (`request.aborted`), nothing can reach it any more: the error goes on once the
 * response has closed, so the access log records the request as abandoned (499) rather
 * than as answered.
 */
export function jsonBody(): RequestHandler {
  const parse = express.json({ limit: MAX_BODY_BYTES, strict: true, type: ['application/json', 'application/*+json'], verify: verifyUtf8 })
  return (req: Request, res: Response, next: NextFunction): void => {
    parse(req, res, (err?: unknown) => {
      if (err === undefined) {
        next()
        return
      }
      const error = translate(err as BodyParserError)
      if ((err as BodyParserError).type === 'request.aborted' && !res.closed) res.once('close', () => next(error))
      else next(error)
    })
  }
}
