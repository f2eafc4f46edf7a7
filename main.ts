import { ConfigError, loadConfig, type Config } from './core/config'
import { configureLogger, logger } from './core/logger'
import { startHub } from './hub'

async function main(): Promise<void> {
  let config: Config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`signal hub: configuration error: ${err.message}\n`)
      process.exit(1)
    }
    throw err
  }
  configureLogger(config)
  const hub = await startHub(config)
  let signals = 0
  const shutdown = (signal: NodeJS.Signals): void => {
    signals++
    if (signals > 1) process.exit(1)
    logger.info('shutting down', { signal })
    const force = setTimeout(() => {
      logger.error('shutdown took longer than 10 s; exiting')
      process.exit(1)
    }, 10_000)
    force.unref()
    hub.stop().then(() => {
      logger.info('stopped')
      process.exit(0)
    }, (err: unknown) => {
      logger.error('shutdown failed', { err })
      process.exit(1)
    })
  }
  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)
}

main().catch((err: unknown) => {
  logger.error('signal hub failed to start', { err: err instanceof Error ? err.message : String(err) })
  process.exit(1)
})
