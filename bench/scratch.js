'use strict'
/** Scratch stores for one bench run: a MariaDB database dropped afterwards, Redis keys removed afterwards. */
const { URL } = require('node:url')
const mysql = require('mysql2/promise')
const { Redis } = require('ioredis')

/** Creates database `name` on the server of `baseUrl` (mysql://user:pass@host:port/anything). */
async function createScratchMysql(baseUrl, name) {
  const url = new URL(baseUrl.replace(/^mariadb:/, 'mysql:'))
  url.pathname = ''
  const conn = await mysql.createConnection(url.toString())
  await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`)
  await conn.end()
  url.pathname = `/${name}`
  return {
    name,
    url: url.toString(),
    drop: async () => {
      url.pathname = ''
      const c = await mysql.createConnection(url.toString())
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``)
      await c.end()
    }
  }
}

/** Deletes every key under `prefix`. */
async function cleanRedisPrefix(redisUrl, prefix) {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 })
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await redis.del(...keys)
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}

module.exports = { createScratchMysql, cleanRedisPrefix }
