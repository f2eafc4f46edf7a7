import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31, type ResponseConfig } from '@asteasolutions/zod-to-openapi'
import { z } from 'zod'
import { ERROR_CATALOGUE } from '../core/errors'
import { PROBLEM_CONTENT_TYPE } from './problem'

extendZodWithOpenApi(z)

/**
 * The API description's shared registry. Routes register their paths here at module
 * load (once per process) with the same zod schemas they validate with; paths whose
 * schemas depend on the configuration are registered per app on a child registry
 * (see `createHttpApp`). /openapi.json is generated from both.
 */
export const registry = new OpenAPIRegistry()

export const bearerAuth = registry.registerComponent('securitySchemes', 'bearerAuth', {
  type: 'http',
  scheme: 'bearer',
  description: 'An API key: `Authorization: Bearer <key>`'
})
export const apiKeyAuth = registry.registerComponent('securitySchemes', 'apiKeyAuth', {
  type: 'apiKey',
  in: 'header',
  name: 'X-API-Key'
})

/** `security` of an operation that needs an API key (either header). */
export const KEY_REQUIRED = [{ [bearerAuth.name]: [] }, { [apiKeyAuth.name]: [] }]

export const problemSchema = registry.register('Problem', z.object({
  type: z.string().openapi({ example: 'urn:signal-hub:problem:validation_failed' }),
  title: z.string().openapi({ description: 'English or Chinese, by Accept-Language', example: 'Validation failed' }),
  status: z.number().int().openapi({ example: 422 }),
  detail: z.string(),
  code: z.enum(Object.keys(ERROR_CATALOGUE) as [string, ...string[]]),
  request_id: z.string(),
  issues: z.array(z.object({ path: z.string().openapi({ example: 'signals.3.symbol' }), message: z.string() })).optional()
}).openapi({ description: 'An RFC 9457 problem (application/problem+json)' }))

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request or malformed JSON',
  401: 'Missing, invalid, revoked or expired API key',
  403: 'Not allowed (or user disabled)',
  404: 'Not found',
  409: 'Conflict',
  413: 'Body too large',
  415: 'Body is not JSON',
  422: 'Validation failed; `issues` names each field',
  429: 'Rate limited or locked out after failed logins; see Retry-After',
  503: 'A dependency is down'
}

/** Problem responses for the given statuses; 401 and 429 are added for every keyed route. */
export function problemResponses(...statuses: number[]): Record<string, ResponseConfig> {
  const all = [...new Set([...statuses, 401, 429])].sort()
  return Object.fromEntries(all.map((status) => [String(status), {
    description: STATUS_TEXT[status] ?? 'Error',
    content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema } }
  }]))
}

/** The OpenAPI 3.1 document of everything registered on `registries` (and their parents). */
export function buildOpenApiDocument(registries: OpenAPIRegistry[]): ReturnType<OpenApiGeneratorV31['generateDocument']> {
  const generator = new OpenApiGeneratorV31(registries.flatMap((r) => r.definitions))
  return generator.generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Signal Hub API',
      version: '1',
      description: 'Trading-strategy signals over REST and MQTT. Errors are application/problem+json; titles follow Accept-Language (en, zh).'
    },
    servers: [{ url: '/' }]
  })
}

export { z }
