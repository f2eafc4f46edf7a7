import type { Request } from 'express'
import { AppError } from '../../core/errors'

/** Mounted after every route: whatever reaches it matched nothing. */
export function notFound(req: Request): never {
  throw new AppError('route_not_found', `no route for ${req.method} ${req.path}`)
}
