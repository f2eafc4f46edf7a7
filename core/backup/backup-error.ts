/** A backup that cannot be taken; its message is one line fit for stderr and the job log. */
export class BackupError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'BackupError'
  }
}
