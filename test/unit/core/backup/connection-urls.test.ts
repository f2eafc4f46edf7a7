import { BackupError } from '../../../../core/backup/backup-error'
import { parseDatabaseUrl, parseRedisUrl } from '../../../../core/backup/connection-urls'

describe('parseDatabaseUrl', () => {
  test('parseDatabaseUrl with sqlite: gives the file exactly as the service opens it', () => {
    expect(parseDatabaseUrl('sqlite:./data/signalhub.sqlite')).toEqual({ dialect: 'sqlite', file: './data/signalhub.sqlite' })
    expect(parseDatabaseUrl('sqlite:/srv/my data/hub?.sqlite')).toEqual({ dialect: 'sqlite', file: '/srv/my data/hub?.sqlite' })
  })

  test('parseDatabaseUrl with mysql: decodes the user, password and database and defaults the port', () => {
    expect(parseDatabaseUrl('mysql://sig%40nal:p%40ss%3Aw%2Fd@db.example:3307/hub%2Dprod?ssl=true')).toEqual({
      dialect: 'mysql', host: 'db.example', port: 3307, user: 'sig@nal', password: 'p@ss:w/d', database: 'hub-prod'
    })
    expect(parseDatabaseUrl('mariadb://[::1]/hub')).toEqual({ dialect: 'mysql', host: '::1', port: 3306, user: '', password: '', database: 'hub' })
  })

  test.each([
    ['sqlite::memory:', /in-memory SQLite database \(sqlite::memory:\) cannot be backed up/],
    ['sqlite:', /names no SQLite file/],
    ['./data/signalhub.sqlite', /is not a URL/],
    ['postgres://u:p@h/db', /must be sqlite:<file> or mysql:/],
    ['mysql://u:p@h:3306/', /names no database/],
    ['mysql://u:p@h:3306', /names no database/],
    ['mysql://u:%zz@h/db', /badly encoded password/]
  ])('parseDatabaseUrl with %s is refused', (url, message) => {
    expect(() => parseDatabaseUrl(url)).toThrow(BackupError)
    expect(() => parseDatabaseUrl(url)).toThrow(message)
  })

  test('parseDatabaseUrl refusing a URL does not repeat its password', () => {
    expect(() => parseDatabaseUrl('postgres://u:hunter22@h/db')).toThrow(expect.objectContaining({ message: expect.not.stringContaining('hunter22') }))
  })
})

describe('parseRedisUrl', () => {
  test('parseRedisUrl reads user, password, database and TLS as ioredis does', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379')).toEqual({ host: '127.0.0.1', port: 6379, user: '', password: '', tls: false })
    expect(parseRedisUrl('rediss://default:p%40ss@r-1.example/3')).toEqual({ host: 'r-1.example', port: 6379, user: 'default', password: 'p@ss', db: 3, tls: true })
    expect(parseRedisUrl('redis://:secret@[::1]:6380/')).toEqual({ host: '::1', port: 6380, user: '', password: 'secret', tls: false })
  })

  test.each([
    ['http://127.0.0.1:6379', /must be redis:/],
    ['redis://127.0.0.1:6379/sessions', /database "sessions"; a database is a number/],
    ['redis:', /names no host/],
    ['not a url', /is not a URL/]
  ])('parseRedisUrl with %s is refused', (url, message) => {
    expect(() => parseRedisUrl(url)).toThrow(message)
  })
})
