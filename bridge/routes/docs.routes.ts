import { Router, type NextFunction, type Request, type Response } from 'express'
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi'
import swaggerUi from 'swagger-ui-express'
import { buildOpenApiDocument } from '../openapi'

/**
 * /openapi.json (always) and Swagger UI at /docs (when enabled), both from `docs`.
 * The document is built on first request, after every router has registered its paths.
 * Swagger UI's files are served from swagger-ui-dist in node_modules; no CDN.
 */
export function docsRouter(docs: OpenAPIRegistry, options: { ui: boolean }): Router {
  let document: ReturnType<typeof buildOpenApiDocument> | undefined
  const current = (): ReturnType<typeof buildOpenApiDocument> => {
    document ??= buildOpenApiDocument([docs])
    return document
  }
  const router = Router()
  router.get('/openapi.json', (_req: Request, res: Response) => {
    res.json(current())
  })
  if (options.ui) {
    // The page loads its assets relatively, so it must be addressed as /docs/.
    router.get('/docs', (req: Request, res: Response, next: NextFunction) => {
      if (req.path.endsWith('/')) next()
      else res.redirect(301, '/docs/')
    })
    router.use('/docs', swaggerUi.serve)
    router.get('/docs', swaggerUi.setup(undefined, { swaggerOptions: { url: '/openapi.json' }, customSiteTitle: 'Signal Hub API' }))
  }
  return router
}
