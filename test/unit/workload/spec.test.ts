import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseWorkloadSpec, InvalidWorkloadSpecError } from '../../../src/workload/spec.js';

const base = { name: 'job', command: 'true', gpu: { classes: ['H100'] } };

describe('workload spec', () => {
  it('applies defaults', () => {
    const s = parseWorkloadSpec(base);
    assert.equal(s.spot, 'never');
    assert.equal(s.gpu.count, 1);
    assert.equal(s.autoShutdown, 'off');
    assert.deepEqual(s.lifecycle, { kind: 'job' });
    assert.equal(s.project, 'default');
  });

  it('normalizes countries to alpha-3, prices to exact money, durations to ms', () => {
    const s = parseWorkloadSpec({ ...base, placement: { countries: ['de', 'FIN'] }, maxPricePerHour: '$2.50', lifecycle: { maxDuration: '90m' }, autoShutdown: { idleWindow: '2m' } });
    assert.deepEqual(s.placement.countries, ['DEU', 'FIN']);
    assert.deepEqual(s.maxPricePerHour, { amount: 250, currency: 'USD', scale: 2 });
    assert.equal(s.lifecycle.maxDuration, 90 * 60_000);
    assert.ok(s.autoShutdown !== 'off' && s.autoShutdown.idleWindow === 120_000 && s.autoShutdown.sampleInterval === 30_000);
  });

  it('names every bad field with its fix', () => {
    try {
      parseWorkloadSpec({ name: 'Bad', command: 'true', gpu: { classes: [], count: 0 }, spot: 'maybe', env: { 'BAD-NAME': 'x' }, secretEnv: { TOKEN: 'plain-secret' }, typo: 1 });
      assert.fail('should throw');
    } catch (e) {
      assert.ok(e instanceof InvalidWorkloadSpecError);
      const paths = e.issues.map((i) => i.path);
      for (const p of ['name', 'gpu.classes', 'gpu.count', 'spot', 'env.BAD-NAME', 'secretEnv.TOKEN', '']) assert.ok(paths.includes(p), `missing ${p} in ${paths.join(',')}`);
      assert.match(e.message, /unknown field\(s\) typo/);
      assert.match(e.message, /secretEnv values are references/);
    }
  });

  it('requires a command or a recipe, and refuses a provider both allowed and denied', () => {
    assert.throws(() => parseWorkloadSpec({ name: 'x', gpu: { classes: ['L4'] } }), /command: set command/);
    assert.throws(() => parseWorkloadSpec({ ...base, placement: { providers: { allow: ['local'], deny: ['local'] } } }), /both allowed and denied/);
  });
});
