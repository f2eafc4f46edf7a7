#!/usr/bin/env bash
# Signal Hub backup: one compressed, timestamped archive of the database (and of
# Redis when REDIS_URL is set) in BACKUP_DIR, keeping the newest BACKUP_KEEP.
#
#   DATABASE_URL   sqlite:<file> (online copy) or mysql://user:password@host:port/db
#                  (mysqldump --single-transaction: consistent, no table locks)
#   REDIS_URL      optional; redis://[user:password@]host:port[/db] -> RDB snapshot
#   BACKUP_DIR     where archives go (default ./backups)
#   BACKUP_KEEP    archives kept, newest first (default 14)
#   BACKUP_REDIS   auto (default: snapshot when REDIS_URL is set and redis-cli exists;
#                  a failure is a warning, since managed Redis often refuses SYNC),
#                  required (a failure fails the backup) or off
#   BACKUP_SQLITE_TOOL  auto (default: the sqlite3 CLI when installed, else Node's
#                  sqlite3 package), cli or node
#
# Progress goes to stdout as "backup: ..." lines; the LAST stdout line is the path of
# the archive (the backup job reads it). Passwords never appear on a command line:
# MySQL reads MYSQL_PWD, redis-cli reads REDISCLI_AUTH.
#
# The archive holds manifest.json, and database.sqlite or database.sql, and
# redis.rdb when taken. Restore with scripts/restore.sh <archive>.
set -euo pipefail
export LC_ALL=C
umask 077

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { printf 'backup: %s\n' "$*"; }
warn() { printf 'backup: warning: %s\n' "$*" >&2; }
die() { printf 'backup: %s\n' "$*" >&2; exit 1; }

# DATABASE_URL_FILE / REDIS_URL_FILE, as the service reads them (Docker secrets).
if [[ -z "${DATABASE_URL:-}" && -n "${DATABASE_URL_FILE:-}" ]]; then DATABASE_URL="$(<"$DATABASE_URL_FILE")"; fi
if [[ -z "${REDIS_URL:-}" && -n "${REDIS_URL_FILE:-}" ]]; then REDIS_URL="$(<"$REDIS_URL_FILE")"; fi
DATABASE_URL="${DATABASE_URL:-sqlite:./data/signalhub.sqlite}"
REDIS_URL="${REDIS_URL:-}"
BACKUP_DIR="${BACKUP_DIR:-./backups}"
BACKUP_KEEP="${BACKUP_KEEP:-14}"
BACKUP_REDIS="${BACKUP_REDIS:-auto}"
BACKUP_SQLITE_TOOL="${BACKUP_SQLITE_TOOL:-auto}"

[[ "$BACKUP_KEEP" =~ ^[1-9][0-9]*$ ]] || die "BACKUP_KEEP must be a positive whole number, not '$BACKUP_KEEP'"
[[ "$BACKUP_REDIS" =~ ^(auto|required|off)$ ]] || die "BACKUP_REDIS must be auto, required or off"
[[ "$BACKUP_SQLITE_TOOL" =~ ^(auto|cli|node)$ ]] || die "BACKUP_SQLITE_TOOL must be auto, cli or node"

# shellcheck source=lib/connection-urls.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/connection-urls.sh"

mkdir -p "$BACKUP_DIR"
BACKUP_DIR="$(cd "$BACKUP_DIR" && pwd)"

# A unique UTC stamp with milliseconds, so archives sort by name in time order.
stamp() { date -u +%Y%m%dT%H%M%S.%3NZ; }
STAMP="$(stamp)"
while [[ -e "$BACKUP_DIR/signalhub-$STAMP.tar.gz" ]]; do STAMP="$(stamp)"; done
ARCHIVE="$BACKUP_DIR/signalhub-$STAMP.tar.gz"
WORK="$(mktemp -d "$BACKUP_DIR/.signalhub-$STAMP.XXXXXX")"
cleanup() { rm -rf "$WORK" "$ARCHIVE.partial"; }
trap cleanup EXIT

files=()
redis_status="none"

backup_sqlite() {
  local file="$1" out="$WORK/database.sqlite" tool="$BACKUP_SQLITE_TOOL"
  [[ -f "$file" ]] || die "SQLite database $file does not exist"
  if [[ "$tool" == auto ]]; then
    if command -v sqlite3 >/dev/null 2>&1; then tool=cli; else tool=node; fi
  fi
  say "copying SQLite database $file online ($tool)"
  if [[ "$tool" == cli ]]; then
    command -v sqlite3 >/dev/null 2>&1 || die "the sqlite3 command is not installed (BACKUP_SQLITE_TOOL=cli)"
    # .backup uses SQLite's online backup API: consistent while the service writes.
    # It runs inside $WORK so the output needs no quoting in the dot-command.
    local src
    src="$(cd "$(dirname "$file")" && pwd)/$(basename "$file")"
    (cd "$WORK" && sqlite3 -bail "$src" ".timeout 10000" ".backup database.sqlite")
  else
    # VACUUM INTO writes a consistent, compacted copy inside one read transaction.
    SRC="$file" OUT="$out" ROOT="$ROOT" node -e '
      const sqlite3 = require(require.resolve("sqlite3", { paths: [process.env.ROOT] }))
      const db = new sqlite3.Database(process.env.SRC, sqlite3.OPEN_READONLY, (err) => {
        if (err) { console.error(err.message); process.exit(1) }
        db.configure("busyTimeout", 10000)
        db.run("VACUUM INTO ?", [process.env.OUT], (e) => {
          if (e) { console.error(e.message); process.exit(1) }
          db.close((c) => process.exit(c ? 1 : 0))
        })
      })'
  fi
  files+=(database.sqlite)
}

backup_mysql() {
  command -v mysqldump >/dev/null 2>&1 || die "mysqldump is not installed (apt-get install default-mysql-client, or mysql-client)"
  local opts=(--single-transaction --routines --triggers --events --no-tablespaces --hex-blob
    --default-character-set=utf8mb4 --skip-lock-tables --quick)
  local help
  help="$(mysqldump --help 2>/dev/null || true)"
  # MySQL 8 client options that MariaDB's mysqldump does not know.
  if grep -q -- '--set-gtid-purged' <<<"$help"; then opts+=(--set-gtid-purged=OFF); fi
  if grep -q -- '--column-statistics' <<<"$help"; then opts+=(--column-statistics=0); fi
  say "dumping MySQL database $DB_NAME on $DB_HOST:$DB_PORT"
  MYSQL_PWD="$DB_PASSWORD" mysqldump "${MYSQL_CONN[@]}" "${opts[@]}" "$DB_NAME" >"$WORK/database.sql"
  tail -c 200 "$WORK/database.sql" | grep -q 'Dump completed' || die "mysqldump output is incomplete"
  files+=(database.sql)
}

backup_redis() {
  [[ -n "$REDIS_URL" && "$BACKUP_REDIS" != off ]] || return 0
  if ! command -v redis-cli >/dev/null 2>&1; then
    [[ "$BACKUP_REDIS" == required ]] && die "redis-cli is not installed (BACKUP_REDIS=required)"
    warn "redis-cli is not installed: Redis is not in this backup"
    redis_status="skipped"
    return 0
  fi
  parse_redis_url "$REDIS_URL"
  say "taking a Redis RDB snapshot from $REDIS_HOST:$REDIS_PORT"
  local ok=0
  if [[ -n "$REDIS_PASSWORD" ]]; then
    REDISCLI_AUTH="$REDIS_PASSWORD" timeout 300 redis-cli "${REDIS_CONN[@]}" --rdb "$WORK/redis.rdb" >/dev/null 2>"$WORK/redis.err" || ok=$?
  else
    timeout 300 redis-cli "${REDIS_CONN[@]}" --rdb "$WORK/redis.rdb" >/dev/null 2>"$WORK/redis.err" || ok=$?
  fi
  if [[ $ok -ne 0 || ! -s "$WORK/redis.rdb" ]]; then
    rm -f "$WORK/redis.rdb"
    [[ "$BACKUP_REDIS" == required ]] && die "Redis snapshot failed: $(tail -n 1 "$WORK/redis.err")"
    warn "Redis snapshot failed, Redis is not in this backup: $(tail -n 1 "$WORK/redis.err")"
    redis_status="failed"
  else
    files+=(redis.rdb)
    redis_status="ok"
  fi
  rm -f "$WORK/redis.err"
}

parse_database_url "$DATABASE_URL"
case "$DB_DIALECT" in
  sqlite) backup_sqlite "$DB_FILE" ;;
  mysql) backup_mysql ;;
esac
backup_redis

version="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$ROOT/package.json" 2>/dev/null | head -n 1)"
{
  printf '{\n  "format": 1,\n  "service": "signal-hub",\n  "version": "%s",\n' "${version:-unknown}"
  printf '  "created_at": "%s",\n  "host": "%s",\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$(hostname 2>/dev/null || echo unknown)"
  printf '  "database": { "dialect": "%s", "name": "%s" },\n' "$DB_DIALECT" "$DB_NAME"
  printf '  "redis": "%s",\n  "files": [' "$redis_status"
  sep=""
  for f in "${files[@]}"; do
    printf '%s\n    { "name": "%s", "bytes": %s, "sha256": "%s" }' "$sep" "$f" "$(wc -c <"$WORK/$f" | tr -d ' ')" "$(sha256sum "$WORK/$f" | cut -d' ' -f1)"
    sep=","
  done
  printf '\n  ]\n}\n'
} >"$WORK/manifest.json"

tar -C "$WORK" -czf "$ARCHIVE.partial" manifest.json "${files[@]}"
mv "$ARCHIVE.partial" "$ARCHIVE"
say "archive written ($(wc -c <"$ARCHIVE" | tr -d ' ') bytes: ${files[*]})"

# Retention: names sort in time order; keep the newest BACKUP_KEEP.
shopt -s nullglob
archives=("$BACKUP_DIR"/signalhub-*.tar.gz)
excess=$(( ${#archives[@]} - BACKUP_KEEP ))
for (( i = 0; i < excess; i++ )); do
  rm -f -- "${archives[$i]}"
  say "deleted old archive ${archives[$i]}"
done

printf '%s\n' "$ARCHIVE"
