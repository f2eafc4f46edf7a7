import type { NextFunction, Request, Response } from 'express'
import { AppError } from '../../core/errors'

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i

function hasBody(req: Request): boolean {
  const length = req.get('content-length')
  if (length !== undefined) return Number(length) > 0
  return req.get('transfer-encoding') !== undefined
}

/** A request that carries a body must say it is JSON; anything else is refused with 415 before it is read. */
export function requireJson(req: Request, _res: Response, next: NextFunction): void {
  if (!hasBody(req)) {
    next()
    return
  }
  const type = (req.get('content-type') ?? '').split(';')[0].trim()
  if (!JSON_TYPE.test(type)) {
    throw new AppError('unsupported_media_type', type === '' ? 'a request body needs Content-Type: application/json' : `Content-Type ${type} is not accepted; send application/json`)
  }
  next()
}
