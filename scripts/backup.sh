#!/usr/bin/env bash
# Signal Hub backup: one compressed, timestamped archive of the database (and of
# Redis when REDIS_URL is set) in BACKUP_DIR, keeping the newest BACKUP_KEEP.
# The work is done by core/backup (the same code as the scheduled backup job),
# through the compiled dist/scripts/backup.js.
#
#   DATABASE_URL   sqlite:<file> (online copy) or mysql://user:password@host:port/db
#                  (mysqldump --single-transaction: consistent, no table locks)
#   REDIS_URL      optional; redis://[user:password@]host:port[/db] -> RDB snapshot
#   DATABASE_URL_FILE, REDIS_URL_FILE  read in their place when they are unset
#   BACKUP_DIR     where archives go (default ./backups)
#   BACKUP_KEEP    archives kept, newest first (default 14)
#   BACKUP_REDIS   auto (default: snapshot when REDIS_URL is set and redis-cli exists;
#                  a failure is a warning, since managed Redis often refuses SYNC),
#                  required (a failure fails the backup) or off
#   BACKUP_SQLITE_TOOL  auto (default: the sqlite3 CLI when installed, else Node's
#                  sqlite3 package), cli or node
#
# Progress goes to stdout as "backup: ..." lines; the LAST stdout line is the path of
# the archive. Passwords never appear on a command line: MySQL reads MYSQL_PWD,
# redis-cli reads REDISCLI_AUTH.
#
# The archive holds manifest.json, and database.sqlite or database.sql, and
# redis.rdb when taken. Restore with scripts/restore.sh <archive>.
#
# In a source checkout, dist/ is (re)built with tsc when it is missing or older than
# the backup's sources; where the sources or TypeScript are absent (the image), the
# dist/ that is there is used.
set -euo pipefail
umask 077

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENTRY="$ROOT/dist/scripts/backup.js"
TSC="$ROOT/node_modules/.bin/tsc"

die() { printf 'backup: %s\n' "$*" >&2; exit 1; }

stale() {
  [[ ! -f "$ENTRY" ]] && return 0
  [[ -d "$ROOT/core/backup" ]] || return 1
  [[ -n "$(find "$ROOT/scripts/backup.ts" "$ROOT/core/backup" "$ROOT/core/config.ts" -name '*.ts' -newer "$ENTRY" 2>/dev/null | head -n 1)" ]]
}

if stale; then
  if [[ -x "$TSC" && -f "$ROOT/tsconfig.build.json" ]]; then
    printf 'backup: building dist/ (tsc -p tsconfig.build.json)\n' >&2
    (cd "$ROOT" && "$TSC" -p tsconfig.build.json) >&2 || die "building dist/ failed; run npm run build"
  elif [[ -f "$ENTRY" ]]; then
    printf 'backup: warning: dist/ is older than the backup sources; run npm run build\n' >&2
  else
    die "$ENTRY is missing: run npm run build first"
  fi
fi

exec node "$ENTRY"
