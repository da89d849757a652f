/**
 * An error meant for the user: one sentence plus the fix. The CLI prints only the message
 * (a stack trace only with --verbose).
 */
export class UserError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UserError';
  }
}
