import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Sequelize } from 'sequelize'
import { usingMysql } from './services'

export { usingMysql }

/**
 * A fresh, empty database for one test: a scratch MySQL/MariaDB database next to the
 * one in `DATABASE_URL` when that is `mysql://…`, otherwise a SQLite file in a temporary
 * folder. `drop()` removes it.
 */
export interface ScratchDatabase {
  url: string
  drop(): Promise<void>
}

export async function scratchDatabase(): Promise<ScratchDatabase> {
  if (usingMysql) {
    const base = new URL(process.env.DATABASE_URL as string)
    const name = `sh_test_${randomBytes(5).toString('hex')}`
    const admin = new Sequelize(`mysql://${base.username}:${base.password}@${base.host}/`, { dialect: 'mysql', logging: false })
    await admin.query(`CREATE DATABASE \`${name}\``)
    await admin.close()
    const url = new URL(base.toString())
    url.pathname = `/${name}`
    return {
      url: url.toString(),
      drop: async () => {
        const conn = new Sequelize(`mysql://${base.username}:${base.password}@${base.host}/`, { dialect: 'mysql', logging: false })
        await conn.query(`DROP DATABASE IF EXISTS \`${name}\``)
        await conn.close()
      }
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'signalhub-test-'))
  return {
    url: `sqlite:${join(dir, 'test.sqlite')}`,
    drop: async () => rmSync(dir, { recursive: true, force: true })
  }
}
