import { readdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'

/** `signalhub-<UTC stamp with milliseconds>.tar.gz`: names sort in time order. */
const ARCHIVE_NAME = /^signalhub-\d{8}T\d{6}\.\d{3}Z\.tar\.gz$/

/** The archive name for `at`, e.g. `signalhub-20261122T023000.123Z.tar.gz`. */
export function archiveName(at: Date): string {
  return `signalhub-${at.toISOString().replace(/[-:]/g, '')}.tar.gz`
}

/**
 * Deletes all but the newest `keep` archives in `dir`, never `current` (the one just
 * written, even when a clock set back makes its name sort first). Other files are left
 * alone. Returns the paths deleted, oldest first.
 */
export async function pruneArchives(dir: string, keep: number, current: string): Promise<string[]> {
  const others = (await readdir(dir)).filter((name) => ARCHIVE_NAME.test(name) && name !== current).sort()
  const doomed = others.slice(0, Math.max(0, others.length - (keep - 1)))
  for (const name of doomed) await unlink(join(dir, name))
  return doomed.map((name) => join(dir, name))
}
