import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { commandExists, lastLine, runCommand } from '../../../../core/backup/run-command'

describe('commandExists', () => {
  test('commandExists finds a program on PATH and nothing else', () => {
    expect(commandExists('sh')).toBe(true)
    expect(commandExists('signalhub-no-such-program')).toBe(false)
    expect(commandExists('sh', '')).toBe(false)
    expect(commandExists('node', dirname(process.execPath))).toBe(true)
  })
})

describe('runCommand', () => {
  test('runCommand with capture returns stdout and passes arguments without a shell', async () => {
    const result = await runCommand('printf', ['%s|', 'a b', '$HOME', '; rm -rf /'], { stdout: 'capture' })
    expect(result).toEqual({ ok: true, stdout: 'a b|$HOME|; rm -rf /|', error: '' })
  })

  test('runCommand with a file descriptor writes stdout to that file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signalhub-run-'))
    try {
      const fd = openSync(join(dir, 'out'), 'w')
      const result = await runCommand('printf', ['written'], { stdout: fd })
      closeSync(fd)
      expect(result.ok).toBe(true)
      expect(readFileSync(join(dir, 'out'), 'utf8')).toBe('written')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('runCommand with a failing program reports its last stderr line, or its exit code when silent', async () => {
    expect(await runCommand('sh', ['-c', 'echo first >&2; echo "the reason" >&2; exit 3'])).toEqual({ ok: false, stdout: '', error: 'the reason' })
    expect(await runCommand('sh', ['-c', 'exit 4'])).toEqual({ ok: false, stdout: '', error: 'sh exited with 4' })
  })

  test('runCommand past its timeout stops the program and says so', async () => {
    const result = await runCommand('sleep', ['30'], { timeoutMs: 200 })
    expect(result).toEqual({ ok: false, stdout: '', error: 'sleep was stopped by SIGTERM' })
  })

  test('runCommand with an environment gives the program exactly that', async () => {
    const result = await runCommand('sh', ['-c', 'printf %s "$SIGNALHUB_PROBE"'], { env: { PATH: process.env.PATH, SIGNALHUB_PROBE: 'seen' }, stdout: 'capture' })
    expect(result.stdout).toBe('seen')
  })

  test('runCommand with a program that does not exist rejects', async () => {
    await expect(runCommand('signalhub-no-such-program', [])).rejects.toThrow(/ENOENT/)
  })

  test('lastLine gives the last non-empty line', () => {
    expect(lastLine('one\ntwo\n\n')).toBe('two')
    expect(lastLine('')).toBe('')
  })
})
