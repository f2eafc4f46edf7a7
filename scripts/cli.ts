import { runCli } from './cli/run-cli'

/** `npm run cli -- <command>`: see scripts/cli/run-cli.ts. */
runCli(process.argv.slice(2), process.stdout, { err: process.stderr }).then((code) => {
  process.exitCode = code
}, (err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
})
