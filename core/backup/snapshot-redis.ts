import type { RedisSource } from './connection-urls'
import { runCommand, type CommandResult } from './run-command'

/** A full sync of a large Redis can take a while; a stuck one must not hold the backup forever. */
const SNAPSHOT_TIMEOUT_MS = 300_000

/**
 * Writes an RDB snapshot of `source` to `target` with `redis-cli --rdb` (a replication
 * SYNC, which managed Redis services often refuse). The password goes in REDISCLI_AUTH,
 * never on a command line.
 */
export async function snapshotRedis(source: RedisSource, target: string): Promise<CommandResult> {
  const args = ['-h', source.host, '-p', String(source.port)]
  if (source.user !== '') args.push('--user', source.user)
  if (source.db !== undefined) args.push('-n', String(source.db))
  if (source.tls) args.push('--tls')
  const env: NodeJS.ProcessEnv = { ...process.env }
  if (source.password !== '') env.REDISCLI_AUTH = source.password
  return runCommand('redis-cli', [...args, '--rdb', target], { env, timeoutMs: SNAPSHOT_TIMEOUT_MS })
}
