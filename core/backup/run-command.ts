import { spawn } from 'node:child_process'
import { accessSync, constants, statSync } from 'node:fs'
import { delimiter, join } from 'node:path'

/** Whether `name` is an executable file on PATH, as `command -v` finds it. */
export function commandExists(name: string, path = process.env.PATH ?? ''): boolean {
  return path.split(delimiter).some((dir) => {
    if (dir === '') return false
    const file = join(dir, name)
    try {
      accessSync(file, constants.X_OK)
      return statSync(file).isFile()
    } catch {
      return false
    }
  })
}

export interface CommandOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** An open file descriptor that receives stdout, or `capture`; by default stdout is discarded. */
  stdout?: number | 'capture'
  /** The program is sent SIGTERM after this many milliseconds. */
  timeoutMs?: number
}

export interface CommandResult {
  ok: boolean
  stdout: string
  /** The last line the program wrote to stderr, or how it ended when it wrote none. */
  error: string
}

const KEPT_STDERR = 64 * 1024

/** The last non-empty line of `text`. */
export function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)?.trim() ?? ''
}

/**
 * Runs a program without a shell, so no argument is ever parsed by one. Resolves with how
 * it ended; rejects only when it cannot be started.
 */
export function runCommand(program: string, args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const stdout = options.stdout === undefined ? 'ignore' : options.stdout === 'capture' ? 'pipe' : options.stdout
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', stdout, 'pipe'],
      timeout: options.timeoutMs
    })
    let out = ''
    let err = ''
    child.stdout?.on('data', (chunk: Buffer) => { out += chunk.toString() })
    child.stderr?.on('data', (chunk: Buffer) => { err = (err + chunk.toString()).slice(-KEPT_STDERR) })
    child.on('error', reject)
    child.on('close', (code, signal) => {
      const said = lastLine(err)
      let error = ''
      if (signal !== null) error = `${program} was stopped by ${signal}${said === '' ? '' : `: ${said}`}`
      else if (code !== 0) error = said === '' ? `${program} exited with ${code}` : said
      resolve({ ok: error === '', stdout: out, error })
    })
  })
}
