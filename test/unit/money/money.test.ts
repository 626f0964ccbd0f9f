import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  MoneySchema,
  currencyOf,
  formatMoney,
  fromJSON,
  greaterThan,
  moneyFromDecimal,
  moneyFromMinor,
  proRate,
  sum,
  toDecimalString,
  toJSON,
  zero,
} from '../../../src/money/money.js';

describe('moneyFromDecimal', () => {
  test('parses exactly, keeping the written scale', () => {
    assert.deepEqual(toJSON(moneyFromDecimal('2.49')), { amount: 249, currency: 'USD', scale: 2 });
    assert.deepEqual(toJSON(moneyFromDecimal('0.1')), { amount: 1, currency: 'USD', scale: 1 });
    assert.deepEqual(toJSON(moneyFromDecimal('12')), { amount: 12, currency: 'USD', scale: 0 });
    assert.deepEqual(toJSON(moneyFromDecimal(' 1.005 ')), { amount: 1005, currency: 'USD', scale: 3 });
    assert.deepEqual(toJSON(moneyFromDecimal('-1.25')), { amount: -125, currency: 'USD', scale: 2 });
  });

  test('0.1 + 0.2 is 0.3: no float arithmetic', () => {
    assert.equal(toDecimalString(sum([moneyFromDecimal('0.1'), moneyFromDecimal('0.2')])), '0.30');
  });

  test('catalog float noise is rounded at maxScale (8)', () => {
    const m = moneyFromDecimal('0.36979999999999996');
    assert.deepEqual(toJSON(m), { amount: 36_980_000, currency: 'USD', scale: 8 });
    assert.equal(toDecimalString(m), '0.36980000');
    assert.deepEqual(toJSON(moneyFromDecimal('2.4900000000000002')), { amount: 249_000_000, currency: 'USD', scale: 8 });
  });

  test('rounding beyond maxScale is half-even', () => {
    assert.equal(toJSON(moneyFromDecimal('0.123456785')).amount, 12_345_678, 'tie, 8 is even: down');
    assert.equal(toJSON(moneyFromDecimal('0.123456775')).amount, 12_345_678, 'tie, 7 is odd: up');
    assert.equal(toJSON(moneyFromDecimal('0.1234567851')).amount, 12_345_679, 'above the tie: up');
    assert.equal(toJSON(moneyFromDecimal('0.1234567849')).amount, 12_345_678, 'below the tie: down');
    assert.deepEqual(toJSON(moneyFromDecimal('1.2345', 'USD', 2)), { amount: 123, currency: 'USD', scale: 2 });
    assert.deepEqual(toJSON(moneyFromDecimal('1.235', 'USD', 2)), { amount: 124, currency: 'USD', scale: 2 });
    assert.deepEqual(toJSON(moneyFromDecimal('1.225', 'USD', 2)), { amount: 122, currency: 'USD', scale: 2 });
  });

  test('other currencies, any case', () => {
    assert.deepEqual(toJSON(moneyFromDecimal('3.10', 'eur')), { amount: 310, currency: 'EUR', scale: 2 });
    assert.deepEqual(toJSON(moneyFromDecimal('3.10', 'GBP')), { amount: 310, currency: 'GBP', scale: 2 });
  });

  test('bad decimals throw RangeError naming the input', () => {
    for (const bad of ['', ' ', 'abc', '1e3', '1.', '.5', '1,5', '$2.49', '2.49 USD', 'NaN', '--1']) {
      assert.throws(() => moneyFromDecimal(bad), (e: unknown) => e instanceof RangeError && e.message.includes(`"${bad}"`) && /decimal amount/.test(e.message), bad);
    }
  });

  test('an unsupported currency throws RangeError listing the supported ones', () => {
    assert.throws(() => moneyFromDecimal('1.00', 'JPY'), (e: unknown) => e instanceof RangeError && e.message === 'unsupported currency "JPY": use one of USD, EUR, GBP');
  });

  test('amounts that cannot be held exactly throw RangeError', () => {
    assert.throws(() => moneyFromDecimal('99999999999999999'), (e: unknown) => e instanceof RangeError && /too large/.test(e.message));
    assert.throws(() => moneyFromDecimal('123456789.123456789'), RangeError);
  });
});

describe('proRate', () => {
  const price = moneyFromDecimal('2.49');

  test('one hour is the hourly price', () => {
    const r = proRate(price, 3_600_000);
    assert.deepEqual(toJSON(r), { amount: 249_000_000, currency: 'USD', scale: 8 });
    assert.equal(toDecimalString(r), '2.49000000');
  });

  test('one second is 1/3600 of it, truncated to 10^-6 of a cent', () => {
    // 2.49 / 3600 = 0.000691666...
    assert.deepEqual(toJSON(proRate(price, 1000)), { amount: 69_166, currency: 'USD', scale: 8 });
  });

  test('zero milliseconds cost zero at the price scale', () => {
    assert.deepEqual(toJSON(proRate(price, 0)), { amount: 0, currency: 'USD', scale: 2 });
  });

  test('90 minutes is 1.5 hours', () => {
    assert.equal(toDecimalString(proRate(price, 90 * 60_000)), '3.73500000');
  });

  test('exact where float arithmetic is not (98.37 for an hour, a day, 30 days)', () => {
    const p = moneyFromDecimal('98.37');
    assert.equal(toDecimalString(proRate(p, 3_600_000)), '98.37000000');
    assert.equal(toDecimalString(proRate(p, 24 * 3_600_000)), '2360.88000000');
    assert.equal(toDecimalString(proRate(moneyFromDecimal('0.12345677'), 3_600_000)), '0.12345677000000');
  });

  test('a result too large for the scale keeps fewer decimals rather than losing precision', () => {
    // 0.3698 at scale 8 for 30 days: 266.256 needs scale 14 = 2.66e16 units, past 2^53.
    const r = proRate(moneyFromDecimal('0.36979999999999996'), 30 * 24 * 3_600_000);
    const j = toJSON(r);
    assert.ok(Number.isSafeInteger(j.amount));
    assert.equal(j.scale, 13);
    assert.equal(toDecimalString(r), '266.2560000000000');
  });

  test('bad durations throw RangeError', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => proRate(price, bad), (e: unknown) => e instanceof RangeError && /durationMs/.test(e.message), String(bad));
    }
  });

  test('keeps the currency', () => {
    assert.equal(toJSON(proRate(moneyFromDecimal('1.00', 'EUR'), 1000)).currency, 'EUR');
  });
});

describe('formatMoney', () => {
  test('at least the currency exponent, at most 4 decimals, half-even', () => {
    assert.equal(formatMoney(moneyFromDecimal('2.49')), '2.49 USD');
    assert.equal(formatMoney(moneyFromDecimal('2.5')), '2.50 USD');
    assert.equal(formatMoney(moneyFromDecimal('12')), '12.00 USD');
    assert.equal(formatMoney(moneyFromDecimal('0.123456')), '0.1235 USD');
    assert.equal(formatMoney(moneyFromDecimal('0.36979999999999996')), '0.3698 USD');
    assert.equal(formatMoney(moneyFromDecimal('0.00005')), '0.0000 USD', 'tie to even');
    assert.equal(formatMoney(moneyFromDecimal('3.10', 'EUR')), '3.10 EUR');
  });

  test('accepts the JSON form', () => {
    assert.equal(formatMoney({ amount: 249, currency: 'USD', scale: 2 }), '2.49 USD');
    assert.equal(toDecimalString({ amount: 249, currency: 'USD', scale: 2 }), '2.49');
  });

  test('a prorated second', () => {
    assert.equal(formatMoney(proRate(moneyFromDecimal('2.49'), 1000)), '0.0007 USD');
  });
});

describe('JSON form', () => {
  test('toJSON/fromJSON round-trip', () => {
    for (const m of [moneyFromDecimal('2.49'), moneyFromDecimal('0.36979999999999996'), moneyFromDecimal('-7', 'GBP'), zero('EUR'), proRate(moneyFromDecimal('2.49'), 1000)]) {
      const j = toJSON(m);
      assert.deepEqual(MoneySchema.parse(j), j);
      assert.deepEqual(toJSON(fromJSON(j)), j);
      assert.deepEqual(JSON.parse(JSON.stringify(j)), j);
    }
  });

  test('MoneySchema rejects floats, unknown currencies and extra keys', () => {
    assert.equal(MoneySchema.safeParse({ amount: 2.49, currency: 'USD', scale: 0 }).success, false);
    assert.equal(MoneySchema.safeParse({ amount: 249, currency: 'JPY', scale: 2 }).success, false);
    assert.equal(MoneySchema.safeParse({ amount: 249, currency: 'USD', scale: 2, display: '$2.49' }).success, false);
    assert.equal(MoneySchema.safeParse({ amount: 249, currency: 'USD', scale: 13 }).success, false);
  });

  test('fromJSON with an unsupported currency throws RangeError', () => {
    assert.throws(() => fromJSON({ amount: 1, currency: 'XXX', scale: 2 }), RangeError);
  });
});

describe('helpers', () => {
  test('moneyFromMinor uses the currency exponent', () => {
    assert.deepEqual(toJSON(moneyFromMinor(249)), { amount: 249, currency: 'USD', scale: 2 });
    assert.equal(currencyOf('gbp').code, 'GBP');
  });

  test('sum across scales, and comparison', () => {
    const total = sum([moneyFromDecimal('2.49'), proRate(moneyFromDecimal('2.49'), 1000), moneyFromDecimal('0.1')]);
    assert.equal(toDecimalString(total), '2.59069166');
    assert.equal(toDecimalString(sum([])), '0.00');
    assert.equal(greaterThan(moneyFromDecimal('2.50'), moneyFromDecimal('2.49')), true);
  });
});
