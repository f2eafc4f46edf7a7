import type { Writable } from 'node:stream'
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig, type Env } from '../../core/config'
import { createCore } from '../../core/core'
import { isAppError } from '../../core/errors'
import { logger } from '../../core/logger'
import { cliContext } from '../../core/action-context'
import { CliOutput } from './cli-output'
import { COMMANDS, UsageError, type Command } from './commands'

export interface RunCliOptions {
  /** Environment the configuration is read from (default: process.env). */
  env?: Env
  /** Where notes and errors go (default: `out`). */
  err?: Writable
}

export const EXIT_OK = 0
export const EXIT_FAILED = 1
export const EXIT_USAGE = 2

function usage(): string {
  return ['usage: npm run cli -- [--json] <command>', ...Object.values(COMMANDS).map((c) => `  ${c.usage}`)].join('\n')
}

const NOTES = {
  policy: 'REDIS_URL is not set, so running nodes are not told of this change: they apply it at their next policy reload (any change made through their API, or a restart).',
  key: 'REDIS_URL is not set, so running nodes are not told of this change: REST and new MQTT connections see it once their key cache expires (KEY_CACHE_MS), but open MQTT sessions are not closed until they reconnect or the node restarts.'
}

function parse(command: Command, rest: string[]): { values: Record<string, string | boolean | undefined>, positionals: string[] } {
  const { values, positionals } = parseArgs({ args: rest, options: command.options, strict: true, allowPositionals: true })
  if (positionals.length !== (command.positionals ?? 0)) throw new UsageError(`expected ${command.positionals ?? 0} argument(s), got ${positionals.length}`)
  for (const name of command.required ?? []) if (values[name] === undefined) throw new UsageError(`--${name} is required`)
  return { values, positionals }
}

/**
 * The admin CLI: `[--json] <noun> <verb> [flags]`. Builds a core over the configured
 * database (applying migrations), runs one command through the same core services as
 * the REST API, acting as the operator (an admin), and closes the core again.
 * Returns the exit code: 0 done, 1 refused or failed (one line on `err`), 2 bad usage.
 */
export async function runCli(argv: string[], out: Writable, options: RunCliOptions = {}): Promise<number> {
  const err = options.err ?? out
  const json = argv.includes('--json')
  const words = argv.filter((a) => a !== '--json')
  if (words.length === 0 || words[0] === '--help' || words[0] === 'help') {
    (words.length === 0 ? err : out).write(`${usage()}\n`)
    return words.length === 0 ? EXIT_USAGE : EXIT_OK
  }
  const name = `${words[0]} ${words[1] ?? ''}`
  const command = COMMANDS[name]
  if (command === undefined) {
    err.write(`unknown command: ${words.slice(0, 2).join(' ')}\n${usage()}\n`)
    return EXIT_USAGE
  }
  let args
  try {
    args = parse(command, words.slice(2))
  } catch (e) {
    err.write(`${(e as Error).message}\nusage: npm run cli -- ${command.usage}\n`)
    return EXIT_USAGE
  }

  const env = options.env ?? process.env
  let config
  try {
    config = loadConfig(env)
  } catch (e) {
    if (e instanceof ConfigError) {
      err.write(`configuration error: ${e.message}\n`)
      return EXIT_FAILED
    }
    throw e
  }
  // results go to stdout, so the service's own log lines stay out of it unless asked for
  if (env.LOG_LEVEL === undefined) logger.silent = true
  const output = new CliOutput(out, err, json)
  const core = await createCore(config)
  try {
    await command.run({ core, ctx: cliContext(), out: output }, args)
    if (command.affects !== undefined && config.REDIS_URL === undefined) output.note(NOTES[command.affects])
    return EXIT_OK
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`${e.message}\nusage: npm run cli -- ${command.usage}\n`)
      return EXIT_USAGE
    }
    if (isAppError(e) && e.status < 500) {
      const issues = e.issues?.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`)).join('; ')
      output.error(`error: ${e.code}: ${issues !== undefined && !e.message.includes(issues) ? `${e.message} (${issues})` : e.message}`)
      return EXIT_FAILED
    }
    output.error(`error: ${(e as Error).message}`)
    return EXIT_FAILED
  } finally {
    await core.close()
  }
}
