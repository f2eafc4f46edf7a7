/**
 * Which outside services this run has, and the one way to skip what needs a missing one:
 * a skipped suite or test is reported as skipped by jest, never passed.
 * MariaDB/MySQL when DATABASE_URL is `mysql://…` (else SQLite), Redis when REDIS_URL is set.
 */

export const usingMysql = /^(mysql|mariadb):/.test(process.env.DATABASE_URL ?? '')
export const usingRedis = (process.env.REDIS_URL ?? '') !== ''

/** Suites that need MariaDB/MySQL; skipped on the SQLite run. */
export const describeMysql = usingMysql ? describe : describe.skip
/** Suites that need Redis; skipped when REDIS_URL is unset. */
export const describeRedis = usingRedis ? describe : describe.skip
/** Suites that need both (several nodes sharing one database and one Redis). */
export const describeMysqlAndRedis = usingMysql && usingRedis ? describe : describe.skip
/** Single tests that need MariaDB/MySQL. */
export const testMysql = usingMysql ? test : test.skip
/** Single tests that need SQLite (the default database). */
export const testSqlite = usingMysql ? test.skip : test
/** Single tests that need Redis. */
export const testRedis = usingRedis ? test : test.skip

/** REDIS_URL with another database index, for suites that flush theirs; undefined without Redis. */
export function redisUrl(db?: number): string | undefined {
  if (!usingRedis) return undefined
  const url = new URL(process.env.REDIS_URL as string)
  if (db !== undefined) url.pathname = `/${db}`
  return url.toString()
}
