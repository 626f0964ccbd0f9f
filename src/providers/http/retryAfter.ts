/**
 * Retry-After (RFC 9110 §10.2.3): `delay-seconds` or an `HTTP-date`, the date in any of the three
 * forms a recipient must accept (§5.6.7): IMF-fixdate, obsolete RFC 850 and asctime, all in GMT.
 *
 * Strict on purpose: Date.parse accepts almost anything ("1.5" is 5 January 2001), and a value
 * misread as a past date would ask for no wait at all. Anything that is not one of these forms is
 * no Retry-After (the caller's own backoff applies).
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';

/** Sun, 06 Nov 1994 08:49:37 GMT */
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
/** Sunday, 06-Nov-94 08:49:37 GMT */
const RFC850_DATE = new RegExp(`^${LONG_DAY}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
/** Sun Nov  6 08:49:37 1994 */
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`);

function utc(year: number, month: string, day: number, h: string, m: string, s: string): number | undefined {
  const mon = MONTHS.indexOf(month);
  const [hh, mm, ss] = [Number(h), Number(m), Number(s)];
  if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return undefined;
  const t = Date.UTC(year, mon, day, hh, mm, Math.min(ss, 59));
  // 31 Feb would roll over into March: not a date.
  return new Date(t).getUTCDate() === day ? t : undefined;
}

/** An HTTP-date as epoch milliseconds, or undefined when `v` is not one. */
export function parseHttpDate(v: string): number | undefined {
  let m = IMF_FIXDATE.exec(v);
  if (m) return utc(Number(m[3]), m[2]!, Number(m[1]), m[4]!, m[5]!, m[6]!);
  m = RFC850_DATE.exec(v);
  if (m) {
    // RFC 9110: a two-digit year more than 50 years in the future is the most recent past year with those digits.
    const yy = Number(m[3]);
    const thisYear = new Date().getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + yy;
    if (year > thisYear + 50) year -= 100;
    return utc(year, m[2]!, Number(m[1]), m[4]!, m[5]!, m[6]!);
  }
  m = ASCTIME_DATE.exec(v);
  if (m) return utc(Number(m[6]), m[1]!, Number(m[2]!.trim()), m[3]!, m[4]!, m[5]!);
  return undefined;
}

/**
 * Retry-After as the milliseconds to wait from `now`: delay-seconds, or the time until an
 * HTTP-date (0 when that date has passed). Undefined when absent or malformed.
 */
export function parseRetryAfter(v: string | null | undefined, now = Date.now()): number | undefined {
  if (!v) return undefined;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const d = parseHttpDate(t);
  return d === undefined ? undefined : Math.max(0, d - now);
}
