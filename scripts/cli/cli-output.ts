import type { Writable } from 'node:stream'

/** Where a command writes: results to `out` (JSON with --json, else readable lines), notes and errors to `err`. */
export class CliOutput {
  constructor(private readonly out: Writable, private readonly err: Writable, readonly json: boolean) {}

  /** One result: `value` as JSON with --json, else the readable `lines`. */
  result(value: unknown, lines: string[] | (() => string[])): void {
    if (this.json) this.out.write(`${JSON.stringify(value, null, 2)}\n`)
    else for (const line of typeof lines === 'function' ? lines() : lines) this.out.write(`${line}\n`)
  }

  note(text: string): void {
    this.err.write(`note: ${text}\n`)
  }

  error(text: string): void {
    this.err.write(`${text}\n`)
  }
}

/** A row of aligned columns for list output. */
export function columns(values: Array<string | number | null | undefined>, widths: number[]): string {
  return values.map((v, i) => String(v ?? '-').padEnd(widths[i] ?? 0)).join('  ').trimEnd()
}
