/** Billing granularity and exact ledger arithmetic. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { billedCost, billedMs, exactDecimal, formatExact, ledgerSum, parseAmount, type BillingPolicy } from '../../../src/money/billing.js';
import { moneyFromDecimal, toJSON } from '../../../src/money/money.js';

const perSecond: BillingPolicy = { granularity: 'second', minimumSeconds: 0 };
const perMinute: BillingPolicy = { granularity: 'minute', minimumSeconds: 0 };
const perHour: BillingPolicy = { granularity: 'hour', minimumSeconds: 0 };

describe('billedMs: the lifetime a provider charges for', () => {
  it('rounds up to the unit', () => {
    assert.equal(billedMs(1_000, perSecond), 1_000);
    assert.equal(billedMs(1_001, perSecond), 2_000);
    assert.equal(billedMs(59_999, perMinute), 60_000);
    assert.equal(billedMs(60_001, perMinute), 120_000);
    assert.equal(billedMs(1, perHour), 3_600_000);
    assert.equal(billedMs(3_600_000, perHour), 3_600_000);
    assert.equal(billedMs(3_600_001, perHour), 7_200_000);
  });

  it('applies the minimum charge', () => {
    assert.equal(billedMs(10_000, { granularity: 'second', minimumSeconds: 60 }), 60_000);
    assert.equal(billedMs(90_500, { granularity: 'second', minimumSeconds: 60 }), 91_000);
    assert.equal(billedMs(0, { granularity: 'minute', minimumSeconds: 300 }), 300_000);
  });

  it('treats a negative lifetime (clock skew) as zero and refuses non-integers', () => {
    assert.equal(billedMs(-5, perSecond), 0);
    assert.throws(() => billedMs(1.5, perSecond), /integer/);
  });

  it('is monotonic and never below the lifetime', () => {
    const policy = fc.record({ granularity: fc.constantFrom('second' as const, 'minute' as const, 'hour' as const), minimumSeconds: fc.integer({ min: 0, max: 7200 }) });
    fc.assert(
      fc.property(policy, fc.integer({ min: 0, max: 10 ** 10 }), fc.integer({ min: 0, max: 10 ** 8 }), (p, a, d) => {
        const x = billedMs(a, p);
        assert.ok(x >= a);
        assert.ok(billedMs(a + d, p) >= x);
      }),
    );
  });
});

describe('billedCost: exact, rounded up to 10^-8', () => {
  it('per second at 0.80/h: 1 s costs 0.00022223 (0.000222…, rounded up), 1 h costs exactly 0.80', () => {
    assert.equal(exactDecimal(billedCost(moneyFromDecimal('0.80'), 1_000, perSecond)), '0.00022223');
    assert.equal(exactDecimal(billedCost(moneyFromDecimal('0.80'), 3_600_000, perSecond)), '0.80');
  });

  it('per minute: 61 s is billed as 2 minutes', () => {
    assert.equal(exactDecimal(billedCost(moneyFromDecimal('3.00'), 61_000, perMinute)), '0.10');
  });

  it('per hour: one second is billed as a full hour', () => {
    assert.equal(exactDecimal(billedCost(moneyFromDecimal('2.49'), 1_000, perHour)), '2.49');
  });

  it('keeps prices with more decimals exact (98.37/h for one hour is 98.37, not 98.37000002)', () => {
    assert.equal(exactDecimal(billedCost(moneyFromDecimal('98.37'), 3_600_000, perSecond)), '98.37');
    assert.equal(exactDecimal(billedCost(moneyFromDecimal('0.3697999'), 3_600_000, perSecond)), '0.3697999');
    assert.equal(exactDecimal(billedCost(moneyFromDecimal('0.123456789', 'USD', 9), 3_600_000, perSecond)), '0.12345679');
  });

  it('sums exactly: 3600 one-second charges at 3.60/h make 3.60', () => {
    const one = billedCost(moneyFromDecimal('3.60'), 1_000, perSecond);
    assert.equal(exactDecimal(one), '0.001');
    assert.equal(exactDecimal(ledgerSum(Array.from({ length: 3600 }, () => one))), '3.60');
  });

  it('never under-counts: the cost is at least price × billed time', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 2, max: 8 }), fc.integer({ min: 0, max: 30 * 86_400_000 }), (amount, scale, ms) => {
        const price = toJSON(moneyFromDecimal((amount / 10 ** scale).toFixed(scale)));
        const cost = billedCost(price, ms, perSecond);
        const units = BigInt(toJSON(cost).amount); // 10^-8
        const exactNum = BigInt(price.amount) * BigInt(billedMs(ms, perSecond)) * 10n ** BigInt(8 - price.scale);
        assert.ok(units * 3_600_000n >= exactNum, 'rounded up');
        assert.ok((units - 1n) * 3_600_000n < exactNum || units === 0n, 'by less than one unit');
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseAmount: exact user amounts with clear errors', () => {
  it('accepts decimal strings and whole numbers', () => {
    assert.equal(formatExact(parseAmount('cap', '100.00', 'USD')), '100.00 USD');
    assert.equal(formatExact(parseAmount('cap', 250, 'EUR')), '250.00 EUR');
    assert.equal(formatExact(parseAmount('cap', '0.00000001', 'GBP')), '0.00000001 GBP');
  });

  it('refuses floats, negatives, garbage, too many decimals, zero (unless allowed) and unknown currencies', () => {
    assert.throws(() => parseAmount('cap', 12.5, 'USD'), /cap must be written as a decimal string such as "12\.50": floating-point numbers are not accepted/);
    assert.throws(() => parseAmount('cap', '-5', 'USD'), /cap must not be negative \(got "-5"\)/);
    assert.throws(() => parseAmount('cap', 'ten dollars', 'USD'), /cap must be a decimal amount such as "100\.00" \(got "ten dollars"\)/);
    assert.throws(() => parseAmount('cap', '1.123456789', 'USD'), /more than 8 decimal places/);
    assert.throws(() => parseAmount('cap', '0', 'USD'), /greater than zero/);
    assert.equal(formatExact(parseAmount('cap', '0', 'USD', { allowZero: true })), '0.00 USD');
    assert.throws(() => parseAmount('cap', '10', 'XYZ'), /unsupported currency "XYZ": use one of USD, EUR, GBP/);
    assert.throws(() => parseAmount('cap', '99999999999999', 'USD'), /too large/);
  });
});
