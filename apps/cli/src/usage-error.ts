/**
 * A command line the CLI cannot act on: an unknown command, action or option, a missing or
 * malformed value. Exits 2 with the usage of the command it was given (main.ts); nothing has
 * been changed when it is thrown.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
