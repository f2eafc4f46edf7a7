#!/usr/bin/env bash
# Signal Hub restore: scripts/restore.sh [--force] [--redis-rdb <file>] <archive>
#
# Restores an archive made by scripts/backup.sh into the database named by
# DATABASE_URL (sqlite:<file> or mysql://user:password@host:port/db). Stop the
# service first: a restore replaces the database underneath it.
#
# The target must be EMPTY (no tables, or no SQLite file): a restore over live data
# is refused unless --force is given, in which case the existing tables are dropped
# (MySQL) or the existing file is moved aside to <file>.before-restore-<stamp> (SQLite).
# A MySQL database that does not exist yet is created.
# BACKUP_SQLITE_TOOL=auto|cli|node picks how a SQLite file is inspected, as in backup.sh.
#
# Redis is not restored in place (an RDB file is loaded by redis-server at start):
# --redis-rdb <file> writes the archive's snapshot there; copy it to Redis' `dir`
# as dump.rdb while Redis is stopped. Sessions and retained messages are all it holds.
set -euo pipefail
export LC_ALL=C
umask 077

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { printf 'restore: %s\n' "$*"; }
die() { printf 'restore: %s\n' "$*" >&2; exit 1; }
usage() { die "usage: restore.sh [--force] [--redis-rdb <file>] <archive.tar.gz>"; }

FORCE=0
REDIS_OUT=""
ARCHIVE=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --force) FORCE=1 ;;
    --redis-rdb) [[ $# -ge 2 ]] || usage; REDIS_OUT="$2"; shift ;;
    -h|--help) usage ;;
    -*) usage ;;
    *) [[ -z "$ARCHIVE" ]] || usage; ARCHIVE="$1" ;;
  esac
  shift
done
[[ -n "$ARCHIVE" ]] || usage
[[ -f "$ARCHIVE" ]] || die "no such archive: $ARCHIVE"

if [[ -z "${DATABASE_URL:-}" && -n "${DATABASE_URL_FILE:-}" ]]; then DATABASE_URL="$(<"$DATABASE_URL_FILE")"; fi
DATABASE_URL="${DATABASE_URL:-sqlite:./data/signalhub.sqlite}"

# shellcheck source=lib/connection-urls.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/connection-urls.sh"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/signalhub-restore.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

tar -C "$WORK" -xzf "$ARCHIVE" || die "cannot read $ARCHIVE"
[[ -f "$WORK/manifest.json" ]] || die "$ARCHIVE is not a Signal Hub backup (no manifest.json)"
archived_dialect="$(sed -n 's/.*"dialect": "\([a-z]*\)".*/\1/p' "$WORK/manifest.json")"

# Every file is checked against the manifest before anything is touched.
while read -r name sum; do
  [[ -f "$WORK/$name" ]] || die "$name is listed in the manifest but missing"
  [[ "$(sha256sum "$WORK/$name" | cut -d' ' -f1)" == "$sum" ]] || die "$name does not match its checksum: the archive is damaged"
done < <(sed -n 's/.*"name": "\([^"]*\)".*"sha256": "\([0-9a-f]*\)".*/\1 \2/p' "$WORK/manifest.json")

parse_database_url "$DATABASE_URL"
[[ "$archived_dialect" == "$DB_DIALECT" ]] || die "the archive holds a $archived_dialect database but DATABASE_URL is $DB_DIALECT"

sqlite_table_count() {
  local file="$1" tool="${BACKUP_SQLITE_TOOL:-auto}"
  if [[ "$tool" == auto ]]; then
    if command -v sqlite3 >/dev/null 2>&1; then tool=cli; else tool=node; fi
  fi
  if [[ "$tool" == cli ]]; then
    sqlite3 -bail "$file" ".timeout 10000" "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
  else
    SRC="$file" ROOT="$ROOT" node -e '
      const sqlite3 = require(require.resolve("sqlite3", { paths: [process.env.ROOT] }))
      const db = new sqlite3.Database(process.env.SRC, sqlite3.OPEN_READONLY, (err) => {
        if (err) { console.error(err.message); process.exit(1) }
        db.get("SELECT count(*) AS n FROM sqlite_master WHERE type = ?", ["table"], (e, row) => {
          if (e) { console.error(e.message); process.exit(1) }
          console.log(row.n)
          db.close()
        })
      })'
  fi
}

restore_sqlite() {
  local target="$DB_FILE" tables
  if [[ -s "$target" ]]; then
    tables="$(sqlite_table_count "$target")"
    if [[ "$tables" != 0 ]]; then
      [[ $FORCE -eq 1 ]] || die "$target already holds $tables tables; restore into an empty database, or pass --force to replace it"
      local aside
      aside="$target.before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
      mv -- "$target" "$aside"
      say "moved the existing database aside to $aside"
    fi
  fi
  mkdir -p "$(dirname "$target")"
  rm -f -- "$target-wal" "$target-shm" "$target-journal"
  cp -- "$WORK/database.sqlite" "$target.restoring"
  mv -- "$target.restoring" "$target"
  say "restored SQLite database $target"
}

mysql_q() {
  MYSQL_PWD="$DB_PASSWORD" mysql "${MYSQL_CONN[@]}" --default-character-set=utf8mb4 --batch --skip-column-names "$@"
}

restore_mysql() {
  command -v mysql >/dev/null 2>&1 || die "the mysql client is not installed (apt-get install default-mysql-client, or mysql-client)"
  local name_sql="${DB_NAME//\'/\'\'}" ident="\`${DB_NAME//\`/\`\`}\`" tables
  tables="$(mysql_q -e "SELECT table_name FROM information_schema.tables WHERE table_schema = '$name_sql'")"
  if [[ -n "$tables" ]]; then
    [[ $FORCE -eq 1 ]] || die "database $DB_NAME already holds $(wc -l <<<"$tables" | tr -d ' ') tables; restore into an empty database, or pass --force to replace them"
    local drop="SET FOREIGN_KEY_CHECKS = 0;"
    while read -r t; do drop+=" DROP TABLE IF EXISTS $ident.\`${t//\`/\`\`}\`;"; done <<<"$tables"
    mysql_q -e "$drop"
    say "dropped the existing tables of $DB_NAME"
  fi
  if [[ -z "$(mysql_q -e "SELECT 1 FROM information_schema.schemata WHERE schema_name = '$name_sql'")" ]]; then
    mysql_q -e "CREATE DATABASE $ident CHARACTER SET utf8mb4"
    say "created database $DB_NAME"
  fi
  say "loading the dump into $DB_NAME on $DB_HOST:$DB_PORT"
  mysql_q "$DB_NAME" <"$WORK/database.sql"
  say "restored MySQL database $DB_NAME"
}

case "$DB_DIALECT" in
  sqlite) restore_sqlite ;;
  mysql) restore_mysql ;;
esac

if [[ -f "$WORK/redis.rdb" ]]; then
  if [[ -n "$REDIS_OUT" ]]; then
    cp -- "$WORK/redis.rdb" "$REDIS_OUT"
    say "Redis snapshot written to $REDIS_OUT: stop Redis, copy it to its data dir as dump.rdb, start Redis"
  else
    say "the archive also holds a Redis snapshot; pass --redis-rdb <file> to extract it"
  fi
fi
say "done; start the service and check /readyz"
