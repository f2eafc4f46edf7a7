import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'

export interface ManifestContent {
  version: string
  createdAt: Date
  database: { dialect: 'sqlite' | 'mysql', name: string }
  redis: 'none' | 'ok' | 'skipped' | 'failed'
  /** Names of the files in `dir` the archive holds besides the manifest. */
  files: string[]
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256')
  await pipeline(createReadStream(file), hash)
  return hash.digest('hex')
}

/**
 * Writes `dir/manifest.json`, format 1. scripts/restore.sh reads it line by line with
 * sed, so the layout is fixed: the database on one line, each file on one line with its
 * name before its checksum, and `"key": value` spacing throughout.
 */
export async function writeManifest(dir: string, content: ManifestContent): Promise<void> {
  const text = JSON.stringify
  const files: string[] = []
  for (const name of content.files) {
    const path = join(dir, name)
    files.push(`    { "name": ${text(name)}, "bytes": ${(await stat(path)).size}, "sha256": "${await sha256(path)}" }`)
  }
  const lines = [
    '{',
    '  "format": 1,',
    '  "service": "signal-hub",',
    `  "version": ${text(content.version)},`,
    `  "created_at": ${text(content.createdAt.toISOString())},`,
    `  "host": ${text(hostname())},`,
    `  "database": { "dialect": ${text(content.database.dialect)}, "name": ${text(content.database.name)} },`,
    `  "redis": ${text(content.redis)},`,
    `  "files": [${files.length === 0 ? '' : `\n${files.join(',\n')}`}`,
    '  ]',
    '}',
    ''
  ]
  await writeFile(join(dir, 'manifest.json'), lines.join('\n'), { mode: 0o600, flag: 'wx' })
}
