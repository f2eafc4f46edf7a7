# Connection settings from DATABASE_URL and REDIS_URL, shared by backup.sh and restore.sh.
# Sourced, not run; expects a die() function from the caller.

urldecode() { local s="${1//\\/\\\\}"; printf '%b' "${s//%/\\x}"; }

# Sets DB_DIALECT (sqlite|mysql); DB_FILE for SQLite; DB_USER, DB_PASSWORD, DB_HOST,
# DB_PORT, DB_NAME and MYSQL_CONN (client options without the password) for MySQL.
parse_database_url() {
  local url="$1" rest creds hostport
  case "$url" in
    sqlite::memory:) die "an in-memory SQLite database (sqlite::memory:) cannot be backed up or restored" ;;
    sqlite:*)
      DB_DIALECT=sqlite
      DB_FILE="${url#sqlite:}"
      DB_NAME="$DB_FILE"
      return 0 ;;
    mysql://*|mariadb://*) DB_DIALECT=mysql ;;
    *) die "DATABASE_URL must be sqlite:<file> or mysql://user:password@host:port/database" ;;
  esac
  rest="${url#*://}"
  creds=""
  if [[ "$rest" == *@* ]]; then creds="${rest%@*}"; rest="${rest##*@}"; fi
  DB_USER="$(urldecode "${creds%%:*}")"
  DB_PASSWORD=""
  if [[ "$creds" == *:* ]]; then DB_PASSWORD="$(urldecode "${creds#*:}")"; fi
  hostport="${rest%%/*}"
  DB_NAME="$(urldecode "${rest#*/}")"
  DB_NAME="${DB_NAME%%\?*}"
  [[ "$rest" == */* && -n "$DB_NAME" ]] || die "DATABASE_URL names no database"
  if [[ "$hostport" =~ ^\[(.*)\](:([0-9]+))?$ ]]; then
    DB_HOST="${BASH_REMATCH[1]}"; DB_PORT="${BASH_REMATCH[3]:-3306}"
  elif [[ "$hostport" == *:* ]]; then
    DB_HOST="${hostport%:*}"; DB_PORT="${hostport##*:}"
  else
    DB_HOST="$hostport"; DB_PORT=3306
  fi
  MYSQL_CONN=(--host="$DB_HOST" --port="$DB_PORT" --protocol=TCP)
  if [[ -n "$DB_USER" ]]; then MYSQL_CONN+=(--user="$DB_USER"); fi
}

# Sets REDIS_HOST, REDIS_PORT, REDIS_PASSWORD and REDIS_CONN (redis-cli options without the password).
parse_redis_url() {
  local url="$1" rest creds user hostport db
  rest="${url#*://}"
  creds=""
  if [[ "$rest" == *@* ]]; then creds="${rest%@*}"; rest="${rest##*@}"; fi
  user=""; REDIS_PASSWORD=""
  if [[ "$creds" == *:* ]]; then user="$(urldecode "${creds%%:*}")"; REDIS_PASSWORD="$(urldecode "${creds#*:}")";
  elif [[ -n "$creds" ]]; then REDIS_PASSWORD="$(urldecode "$creds")"; fi
  hostport="${rest%%/*}"
  db=""; if [[ "$rest" == */* ]]; then db="${rest#*/}"; db="${db%%\?*}"; fi
  REDIS_HOST="${hostport%:*}"
  REDIS_PORT=6379; if [[ "$hostport" == *:* ]]; then REDIS_PORT="${hostport##*:}"; fi
  REDIS_CONN=(-h "$REDIS_HOST" -p "$REDIS_PORT")
  if [[ -n "$user" ]]; then REDIS_CONN+=(--user "$user"); fi
  if [[ -n "$db" ]]; then REDIS_CONN+=(-n "$db"); fi
  if [[ "$url" == rediss://* ]]; then REDIS_CONN+=(--tls); fi
}
