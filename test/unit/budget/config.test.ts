/** Budget configuration and connection money settings: validated at the boundary with clear errors. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { budgetKey, InvalidBudgetError, parseBudgetConfig, parseBudgetKey, toBudgetKey } from '../../../src/budget/config.js';
import { loadConnections } from '../../../src/config/connections.js';
import { ProviderRegistry } from '../../../src/providers/registry.js';
import { exactDecimal } from '../../../src/money/billing.js';

function issues(input: unknown): string {
  try {
    parseBudgetConfig(input);
  } catch (e) {
    assert.ok(e instanceof InvalidBudgetError);
    return e.message;
  }
  assert.fail('expected InvalidBudgetError');
}

describe('parseBudgetConfig', () => {
  it('normalizes a valid budget with defaults', () => {
    const c = parseBudgetConfig({ cap: '500.00' });
    assert.equal(exactDecimal(c.cap), '500.00');
    assert.equal(c.cap.currency, 'USD');
    assert.equal(c.period, 'month');
    assert.deepEqual(c.alerts, [50, 80]);
    assert.equal(c.onCap, 'stop');
    const e = parseBudgetConfig({ cap: 20, currency: 'eur', period: 'week', alerts: [90], onCap: 'finish', webhookUrl: 'http://127.0.0.1:9/x' });
    assert.equal(e.cap.currency, 'EUR');
    assert.equal(e.onCap, 'finish');
  });

  it('refuses invalid amounts and currencies with messages naming the field', () => {
    assert.match(issues({ cap: '-10' }), /cap: cap must not be negative \(got "-10"\)/);
    assert.match(issues({ cap: 'lots' }), /cap: cap must be a decimal amount such as "100\.00" \(got "lots"\)/);
    assert.match(issues({ cap: 99.99 }), /floating-point numbers are not accepted/);
    assert.match(issues({ cap: '1.000000001' }), /more than 8 decimal places/);
    assert.match(issues({ cap: '10', currency: 'BTC' }), /currency: unsupported currency "BTC": use one of USD, EUR, GBP/);
    assert.match(issues({ cap: '10', alerts: [0, 150] }), /alert thresholds are 1-100/);
    assert.match(issues({ cap: '10', alerts: [33.3] }), /whole percents/);
    assert.match(issues({ cap: '10', period: 'year' }), /period must be day, week or month/);
    assert.match(issues({ cap: '10', onCap: 'kill' }), /onCap must be "stop"/);
    assert.match(issues({ cap: '10', webhookUrl: 'ftp://x/y' }), /webhookUrl must be an http\(s\) URL/);
    assert.match(issues({ cap: '10', capp: 1 }), /unknown field\(s\) capp/);
  });

  it('keys: project:, tenant:, connection:', () => {
    assert.equal(toBudgetKey({ project: 'ml' }), 'project:ml');
    assert.equal(toBudgetKey('tenant:acme'), 'tenant:acme');
    assert.equal(budgetKey('connection', 'lambda-us'), 'connection:lambda-us');
    assert.throws(() => parseBudgetKey('team:x'), /use project:<name>, tenant:<name> or connection:<name>/);
    assert.throws(() => toBudgetKey({ project: 'no spaces' }), /1-64 letters/);
  });
});

describe('connections.yaml: spendingCap and billing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpuflow-conn-'));
  const token = join(dir, 'token');
  writeFileSync(token, 'secret');

  function load(extra: string): ReturnType<typeof loadConnections> {
    const file = join(dir, `c-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, `connections:\n  - kind: local\n    name: local\n    url: http://127.0.0.1:7600\n    tokenFile: ${token}\n${extra}`);
    return loadConnections(file);
  }

  it('accepts a cap and a billing policy, defaulting sensibly', () => {
    const [c] = load('    spendingCap: { amount: "100.00", currency: USD, period: day }\n    billing: { granularity: minute, minimumSeconds: 60 }\n');
    assert.deepEqual(c!.billing, { granularity: 'minute', minimumSeconds: 60 });
    const reg = ProviderRegistry.fromConnections([c!]);
    assert.equal(exactDecimal(reg.get('local').spendingCap!.cap), '100.00');
    assert.equal(reg.get('local').spendingCap!.onCap, 'stop', 'a provider cap is a ceiling');
    const [d] = load('');
    assert.deepEqual(ProviderRegistry.fromConnections([d!]).get('local').billing, { granularity: 'second', minimumSeconds: 0 }, 'the local cloud bills per second');
  });

  it('refuses invalid caps and billing with the field in the message', () => {
    assert.throws(() => load('    spendingCap: { amount: 12.5, period: day }\n'), /connections\.0\.spendingCap\.amount: spendingCap\.amount must be written as a decimal string/);
    assert.throws(() => load('    spendingCap: { amount: "-1", period: day }\n'), /spendingCap\.amount must not be negative/);
    assert.throws(() => load('    spendingCap: { amount: "10", currency: YEN }\n'), /unsupported currency "YEN"/);
    assert.throws(() => load('    billing: { granularity: fortnight }\n'), /billing\.granularity must be one of second, minute, hour/);
    assert.throws(() => load('    billing: { granularity: second, minimumSeconds: 1.5 }\n'), /whole number of seconds/);
  });
});
