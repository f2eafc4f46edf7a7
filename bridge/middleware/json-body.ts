import type { IncomingMessage } from 'node:http'
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express'
import { AppError } from '../../core/errors'

/** Largest JSON body accepted: a full batch of 1000 signals with modest payloads. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024

interface BodyParserError extends Error {
  type?: string
  status?: number
}

/** The body errors both paths (body-parser's and the plain one) answer with. */
const bodyError = {
  notUtf8: (cause: unknown) => new AppError('malformed_json', 'the request body is not valid UTF-8', { cause }),
  notJson: (cause: unknown) => new AppError('malformed_json', 'the request body is not valid JSON', { cause }),
  unreadable: (cause?: unknown) => new AppError('bad_request', 'the request body could not be read', { cause })
}

function translate(err: BodyParserError): AppError {
  switch (err.type) {
    case 'entity.verify.failed': return bodyError.notUtf8(err)
    case 'entity.parse.failed': return bodyError.notJson(err)
    case 'entity.too.large': return new AppError('payload_too_large', `the request body is larger than ${MAX_BODY_BYTES} bytes`, { cause: err })
    case 'encoding.unsupported':
    case 'charset.unsupported': return new AppError('unsupported_media_type', err.message, { cause: err })
    default: return bodyError.unreadable(err)
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Refuses bodies that are not valid UTF-8, which body-parser would otherwise quietly repair with U+FFFD. */
function verifyUtf8(_req: Request, _res: Response, body: Buffer): void {
  utf8.decode(body)
}

/** `application/json`, optionally with `charset=utf-8`, and nothing else in the header. */
const PLAIN_JSON_TYPE = /^application\/json[ \t]*(?:;[ \t]*charset=(?:utf-8|"utf-8")[ \t]*)?$/i

/**
 * The length of a body the plain path can read: JSON in UTF-8 with no content coding and a
 * Content-Length within the limit. Undefined for anything else.
 */
function plainLength(req: IncomingMessage): number | undefined {
  const { 'content-encoding': coding, 'content-type': type, 'content-length': length } = req.headers
  if (coding !== undefined && coding.toLowerCase() !== 'identity') return undefined
  if (type === undefined || length === undefined || !PLAIN_JSON_TYPE.test(type)) return undefined
  const bytes = Number(length)
  return Number.isSafeInteger(bytes) && bytes > 0 && bytes <= MAX_BODY_BYTES ? bytes : undefined
}

/** Whether `text` starts (after JSON whitespace) with `{` or `[`, as body-parser's strict mode requires. */
function objectOrArray(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue
    return c === 0x7b || c === 0x5b
  }
  return false
}

/**
 * Reads a body of `length` bytes (Node's HTTP parser delivers no more than Content-Length)
 * and parses it as body-parser's strict JSON parser would, with the same errors.
 */
function readPlain(req: IncomingMessage, length: number, done: (err: AppError | undefined, body?: unknown) => void): void {
  const body = Buffer.allocUnsafe(length)
  let received = 0
  const onData = (chunk: Buffer): void => {
    chunk.copy(body, received)
    received += chunk.length
  }
  const finish = (err: AppError | undefined, value?: unknown): void => {
    req.off('data', onData)
    req.off('end', onEnd)
    req.off('close', onClose)
    done(err, value)
  }
  const onEnd = (): void => {
    if (received !== length) {
      finish(bodyError.unreadable())
      return
    }
    let text: string
    try {
      text = utf8.decode(body)
    } catch (cause) {
      finish(bodyError.notUtf8(cause))
      return
    }
    try {
      if (!objectOrArray(text)) throw new SyntaxError('a JSON body must be an object or an array')
      finish(undefined, JSON.parse(text))
    } catch (cause) {
      finish(bodyError.notJson(cause))
    }
  }
  // the connection closed before the whole body arrived
  const onClose = (): void => finish(bodyError.unreadable())
  req.on('data', onData)
  req.once('end', onEnd)
  req.once('close', onClose)
}

/**
 * Parses JSON bodies up to MAX_BODY_BYTES; failures become catalogue errors. The common
 * case (plain UTF-8 JSON with a Content-Length, which every signal report is) is read
 * directly; anything else (chunked, compressed, another charset, no body) goes through
 * body-parser, which handles those.
 */
export function jsonBody(): RequestHandler {
  const parse = express.json({ limit: MAX_BODY_BYTES, strict: true, type: ['application/json', 'application/*+json'], verify: verifyUtf8 })
  return (req: Request, res: Response, next: NextFunction): void => {
    const length = plainLength(req)
    if (length === undefined) {
      parse(req, res, (err?: unknown) => next(err === undefined ? undefined : translate(err as BodyParserError)))
      return
    }
    readPlain(req, length, (err, body) => {
      if (err === undefined) req.body = body
      next(err)
    })
  }
}
