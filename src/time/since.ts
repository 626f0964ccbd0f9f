/** `--since` as every command takes it: a span back from now ("7d", "12h", "30m") or a date or time. */
import ms from 'ms';

/** The start of the window, in epoch ms; a RangeError naming the accepted forms otherwise. */
export function parseSince(value: string, now = Date.now()): number {
  const v = value.trim();
  const span = ms(v as ms.StringValue) as number | undefined;
  if (typeof span === 'number' && Number.isFinite(span) && span >= 0) return now - span;
  // A bare date is midnight UTC (Date.parse would read "2026-09-01T00:00" as local time).
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v);
  if (/^\d{4}-\d{2}-\d{2}/.test(v) && Number.isFinite(t)) return t;
  throw new RangeError(`--since must be a span such as 7d, 12h or 30m, or a date such as 2026-09-01 or 2026-09-01T10:00:00Z (got "${value}")`);
}
