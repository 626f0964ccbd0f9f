import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadTrace } from '../../../src/cli/simulate.js';
import { selectPolicies } from '../../../src/simulation/policies.js';

const run = promisify(execFile);
const flags = { seed: 1, hours: 24, hazardScale: 1 };

describe('gpuflow simulate', () => {
  it('says what a bad --trace or --policies is and how to fix it', () => {
    assert.throws(() => loadTrace({ ...flags, trace: ['skypilot'] }), /--trace takes a kind and a path: --trace skypilot DIR, or --trace changes FILE/);
    assert.throws(() => loadTrace({ ...flags, trace: ['aws', 'x'] }), /--trace kind "aws" is not known/);
    assert.throws(() => loadTrace({ ...flags, trace: ['changes', 'x.json'] }), /--trace changes needs --base/);
    assert.throws(() => selectPolicies(['default,spot-sometimes']), /unknown policy "spot-sometimes"; use default, on-demand-only/);
    const dir = mkdtempSync(join(tmpdir(), 'gpuflow-sim-'));
    writeFileSync(join(dir, 'changes.json'), JSON.stringify([{ at: 'yesterday' }]));
    assert.throws(() => loadTrace({ ...flags, trace: ['changes', join(dir, 'changes.json')], base: 'data/skypilot-catalog' }), /must be the output of `gpuflow catalog changes --json`:\n.*changes\.json\[0\]\.at/);
  });

  it('prints the comparison for a mix (end to end, JSON)', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpuflow-sim-'));
    const mix = join(dir, 'mix.yaml');
    writeFileSync(mix, 'jobs:\n  - name: ft\n    count: 2\n    work: 3h\n    checkpointEvery: 30m\n    spec: { gpu: { classes: [H100] }, spot: allow, retryUntilUp: 1d }\n');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'simulate', '--mix', mix, '--trace', 'skypilot', 'data/skypilot-catalog', '--hours', '48', '--policies', 'default,on-demand-only,oracle', '--json']);
    const out = JSON.parse(stdout) as { jobs: number; summaries: { policy: string; cost: string; completed: number; ratioToOracle: number }[] };
    assert.equal(out.jobs, 2);
    assert.deepEqual(out.summaries.map((s) => s.policy), ['default', 'on-demand-only', 'oracle']);
    for (const s of out.summaries) assert.equal(s.completed, 2);
    assert.ok(out.summaries[0]!.ratioToOracle >= 1 && out.summaries[1]!.ratioToOracle >= out.summaries[0]!.ratioToOracle);
    assert.match(out.summaries[0]!.cost, /^\d+\.\d+$/);
  });

  it('rejects a bad mix with the field named', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpuflow-sim-'));
    const mix = join(dir, 'mix.yaml');
    writeFileSync(mix, 'jobs:\n  - name: ft\n    work: soon\n');
    const r = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'simulate', '--mix', mix, '--trace', 'skypilot', 'data/skypilot-catalog']).then(
      () => assert.fail('accepted'),
      (e: { code: number; stderr: string }) => e,
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /jobs\[0\]\.work: work must be a duration/);
  });
});
