import { BackupError } from './backup-error'

export interface SqliteSource {
  dialect: 'sqlite'
  file: string
}

export interface MysqlSource {
  dialect: 'mysql'
  host: string
  port: number
  user: string
  password: string
  database: string
}

export type DatabaseSource = SqliteSource | MysqlSource

export interface RedisSource {
  host: string
  port: number
  user: string
  password: string
  /** The logical database, when the URL names one. */
  db?: number
  tls: boolean
}

function parseUrl(name: string, text: string): URL {
  try {
    return new URL(text)
  } catch {
    throw new BackupError(`${name} is not a URL`)
  }
}

function decoded(name: string, part: string, text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    throw new BackupError(`${name} has a badly encoded ${part}`)
  }
}

/** WHATWG URL keeps the brackets of an IPv6 host; the clients want the bare address. */
function bareHost(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1')
}

function portOf(url: URL, fallback: number): number {
  return url.port === '' ? fallback : Number(url.port)
}

/**
 * What DATABASE_URL points at. A SQLite file is the text after `sqlite:`, exactly as the
 * service opens it (models/database.ts), so a name with spaces or `?` means the same file.
 */
export function parseDatabaseUrl(text: string): DatabaseSource {
  const name = 'DATABASE_URL'
  const url = parseUrl(name, text)
  if (url.protocol === 'sqlite:') {
    const file = text.slice('sqlite:'.length)
    if (file === ':memory:') throw new BackupError('an in-memory SQLite database (sqlite::memory:) cannot be backed up')
    if (file === '') throw new BackupError(`${name} names no SQLite file`)
    return { dialect: 'sqlite', file }
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:') {
    throw new BackupError(`${name} must be sqlite:<file> or mysql://user:password@host:port/database`)
  }
  const database = decoded(name, 'database name', url.pathname.slice(1))
  if (database === '' || database.includes('/')) throw new BackupError(`${name} names no database`)
  if (url.hostname === '') throw new BackupError(`${name} names no host`)
  return {
    dialect: 'mysql',
    host: bareHost(url.hostname),
    port: portOf(url, 3306),
    user: decoded(name, 'user name', url.username),
    password: decoded(name, 'password', url.password),
    database
  }
}

/** What REDIS_URL points at: `redis://` or `rediss://` (TLS), `[user:password@]host[:port][/db]`, read as ioredis reads it. */
export function parseRedisUrl(text: string): RedisSource {
  const name = 'REDIS_URL'
  const url = parseUrl(name, text)
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new BackupError(`${name} must be redis://[user:password@]host:port[/db]`)
  if (url.hostname === '') throw new BackupError(`${name} names no host`)
  const path = url.pathname.replace(/^\//, '')
  if (path !== '' && !/^\d+$/.test(path)) throw new BackupError(`${name} names database "${path}"; a database is a number`)
  return {
    host: bareHost(url.hostname),
    port: portOf(url, 6379),
    user: decoded(name, 'user name', url.username),
    password: decoded(name, 'password', url.password),
    ...(path === '' ? {} : { db: Number(path) }),
    tls: url.protocol === 'rediss:'
  }
}
