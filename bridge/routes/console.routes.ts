import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import express, { Router, type NextFunction, type Request, type Response } from 'express'
import { AppError } from '../../core/errors'

export interface ConsoleRouterOptions {
  /** The built console (Vite's output); default `<project root>/console/dist`. */
  distDir?: string
}

/** The folder holding package.json above `from`: the same from `dist/bridge/routes` and from the sources under ts-jest. */
export function projectRoot(from: string = __dirname): string {
  let dir = from
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) return from
    dir = parent
  }
  return dir
}

const HASHED_ASSETS = '/assets/'

/**
 * The web console at `/console`: the files Vite built, and index.html for any other GET
 * (the console routes in the browser). Hashed assets are cached for good; index.html is
 * revalidated so a new build is picked up at once. Not built → 503 telling how to build it.
 */
export function consoleRouter(options: ConsoleRouterOptions = {}): Router {
  const distDir = options.distDir ?? join(projectRoot(), 'console', 'dist')
  const indexHtml = join(distDir, 'index.html')
  const assetsDir = join(distDir, 'assets')
  const router = Router()

  router.use((_req: Request, _res: Response, next: NextFunction) => {
    // checked per request so a build made after start-up is served without a restart
    if (!existsSync(indexHtml)) throw new AppError('service_unavailable', 'the web console is not built: run `npm run build`')
    next()
  })
  router.use(express.static(distDir, {
    index: false,
    redirect: false,
    setHeaders: (res, file) => {
      res.setHeader('Cache-Control', file.startsWith(assetsDir) ? 'public, max-age=31536000, immutable' : 'no-cache')
    }
  }))
  router.use((req: Request, res: Response, next: NextFunction) => {
    const spaRoute = (req.method === 'GET' || req.method === 'HEAD') && !req.path.startsWith(HASHED_ASSETS)
    if (!spaRoute) {
      next()
      return
    }
    res.setHeader('Cache-Control', 'no-cache')
    res.sendFile(indexHtml, (err?: Error) => { if (err !== undefined) next(err) })
  })
  return router
}
