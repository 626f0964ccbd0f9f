import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHttpDate, parseRetryAfter } from '../../../../src/providers/http/retryAfter.js';

const NOW = Date.parse('1994-11-06T08:49:07Z');

describe('Retry-After (RFC 9110)', () => {
  it('reads delay-seconds', () => {
    assert.equal(parseRetryAfter('120', NOW), 120_000);
    assert.equal(parseRetryAfter(' 0 ', NOW), 0);
  });

  it('reads an HTTP-date in each of the three forms as the time until it', () => {
    assert.equal(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', NOW), 30_000); // IMF-fixdate
    assert.equal(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', NOW), 30_000); // RFC 850
    assert.equal(parseRetryAfter('Sun Nov  6 08:49:37 1994', NOW), 30_000); // asctime
    assert.equal(parseRetryAfter(new Date(NOW + 7_000).toUTCString(), NOW), 7_000);
  });

  it('a date already passed asks for no wait', () => {
    assert.equal(parseRetryAfter('Sun, 06 Nov 1994 08:49:00 GMT', NOW), 0);
  });

  it('anything else is no Retry-After, not a date in 2001', () => {
    for (const v of ['1.5', '-1', 'soon', '30s', 'Sun, 06 Nov 1994 08:49:37', 'Sun, 31 Feb 1994 08:49:37 GMT', '2026-12-03T15:00:00Z', '', null, undefined]) {
      assert.equal(parseRetryAfter(v, NOW), undefined, String(v));
    }
  });

  it('an RFC 850 two-digit year is the nearest one not more than 50 years ahead', () => {
    const thisYear = new Date().getUTCFullYear();
    const yy = String((thisYear + 1) % 100).padStart(2, '0');
    const d = parseHttpDate(`Monday, 01-Jan-${yy} 00:00:00 GMT`);
    assert.equal(new Date(d!).getUTCFullYear(), thisYear + 1);
  });
});
