/** POSIX shell quoting. Pure (no ssh2), so recipes and the spec can use it without the SSH client. */

/** Quotes a string for a POSIX shell. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
