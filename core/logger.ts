import winston from 'winston'
import type { Config } from './config'

/**
 * JSON-lines logger shared by every part of Signal Hub. Entries carry a request id
 * or client id in their metadata. Fields whose names suggest a secret are replaced
 * before anything is written, so a key can never reach a log by accident.
 */

const SECRET_FIELD = /^(key|api_?key|password|authorization|secret|token|x-api-key)$/i

function redactValue(value: unknown, depth: number): unknown {
  if (depth > 4 || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_FIELD.test(k) ? '[redacted]' : redactValue(v, depth + 1)
  }
  return out
}

const redact = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (SECRET_FIELD.test(key)) info[key] = '[redacted]'
    else if (key !== 'message' && key !== 'level') info[key] = redactValue(info[key], 0)
  }
  return info
})

const jsonFormat = winston.format.combine(redact(), winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json())

export const logger = winston.createLogger({
  level: 'info',
  format: jsonFormat,
  transports: [new winston.transports.Console()]
})

/** Applies LOG_LEVEL and LOG_FILE; called once at start. `silent` mutes every transport. */
export function configureLogger(config: Pick<Config, 'LOG_LEVEL' | 'LOG_FILE'>): void {
  logger.silent = config.LOG_LEVEL === 'silent'
  if (config.LOG_LEVEL !== 'silent') logger.level = config.LOG_LEVEL
  if (config.LOG_FILE !== undefined && !logger.transports.some((t) => t instanceof winston.transports.File)) {
    logger.add(new winston.transports.File({ filename: config.LOG_FILE }))
  }
}

logger.silent = process.env.LOG_LEVEL === 'silent'
