import { randomUUID } from 'node:crypto'
import type { NextFunction, Request, Response } from 'express'

const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** Takes the caller's `X-Request-Id` when it is a plain token, otherwise makes one; echoes it on the response. */
export function requestId(req: Request, res: Response, next: NextFunction): void {
  const incoming = req.get('x-request-id')
  const id = incoming !== undefined && ACCEPTABLE_ID.test(incoming) ? incoming : randomUUID()
  res.locals.requestId = id
  res.setHeader('X-Request-Id', id)
  next()
}
