import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { InvalidMixError, parseMix, parseMixText } from '../../../src/simulation/mix.js';

const job = (over: Record<string, unknown> = {}) => ({ name: 'train', work: '2h', spec: { gpu: { classes: ['H100'] }, spot: 'allow' }, ...over });

function errorOf(value: unknown): string {
  try {
    parseMix(value);
  } catch (e) {
    assert.ok(e instanceof InvalidMixError, `expected InvalidMixError, got ${(e as Error).name}`);
    return e.message;
  }
  assert.fail('the mix was accepted');
}

describe('workload mix', () => {
  it('expands copies into jobs on the 6-minute grid', () => {
    const mix = parseMix({ name: 'm', jobs: [job({ count: 3, submitAt: '1h', every: '30m', checkpointEvery: '20m', startup: '7m', idleTail: '1h' })] });
    assert.deepEqual(mix.jobs.map((j) => [j.id, j.submitStep]), [['train-1', 10], ['train-2', 15], ['train-3', 20]]);
    const j = mix.jobs[0]!;
    assert.equal(j.workSteps, 20);
    assert.equal(j.checkpointSteps, 4); // 20 min rounds up to 4 steps
    assert.equal(j.startupSteps, 2);
    assert.equal(j.idleTailMs, 3_600_000);
    assert.equal(j.spec.spot, 'allow');
    assert.equal(j.spec.recovery.strategy, 'eager-next-region'); // the workload spec's defaults apply
  });

  it('without checkpoints, progress is never saved', () => {
    assert.equal(parseMix({ jobs: [job()] }).jobs[0]!.checkpointSteps, Infinity);
  });

  it('names the field and the fix for bad input', () => {
    assert.match(errorOf({ jobs: [{ name: 'train', spec: {} }] }), /jobs\[0\]\.work: /);
    assert.match(errorOf({ jobs: [job({ work: 'soon' })] }), /jobs\[0\]\.work: work must be a duration such as "30m"/);
    assert.match(errorOf({ jobs: [job({ spec: { gpu: { classes: ['H100'] }, spot: 'sometimes' } })] }), /jobs\[0\]\.spec\.spot: /);
    assert.match(errorOf({ jobs: [job({ spec: { gpu: { classes: [] } } })] }), /jobs\[0\]\.spec\.gpu\.classes: gpu\.classes needs at least one GPU model/);
    assert.match(errorOf({ jobs: [job({ spec: { gpu: { classes: ['H100'] }, placement: { countries: ['XX'] } } })] }), /jobs\[0\]\.spec\.placement\.countries\[0\]: "XX" is not an ISO 3166-1 country code/);
    assert.match(errorOf({ jobs: [job(), job()] }), /jobs\[1\]\.name: "train" is used twice/);
    assert.match(errorOf({ jobs: [job({ spec: { name: 'x', gpu: { classes: ['H100'] } } })] }), /jobs\[0\]\.spec: leave out name and command/);
    assert.match(errorOf({ jobs: [job({ spec: { gpu: { classes: ['H100'] }, lifecycle: { kind: 'service' } } })] }), /services are not simulated/);
    assert.match(errorOf({ jobs: [job({ workers: 3 })] }), /jobs\[0\]: Unrecognized key/);
    assert.match(errorOf({ jobs: [] }), /jobs: jobs needs at least one job/);
  });

  it('reads YAML and names the file in errors', () => {
    assert.throws(() => parseMixText('jobs: [', 'bad.yaml'), /bad\.yaml is not YAML or JSON/);
    assert.throws(() => parseMixText('jobs: [{ name: a }]', 'mix.yaml'), /^InvalidMixError: mix\.yaml: invalid mix:\njobs\[0\]\.work/);
  });

  it('the bench mix parses', () => {
    const mix = parseMixText(readFileSync('src/simulation/mixes/spot-tolerant.yaml', 'utf8'));
    assert.equal(mix.jobs.length, 52);
  });
});
