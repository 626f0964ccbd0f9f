/** The gpuflow CLI as a user runs it: a real process against a real dev server and local cloud. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runGpuflow, type CliResult } from '../../helpers/cli.js';
import { startTestEnv, type TestEnv } from '../../helpers/environment.js';

let env: TestEnv;

function gpuflow(...args: string[]): Promise<CliResult> {
  return runGpuflow(env.childEnv, args, 120_000);
}

before(async () => {
  env = await startTestEnv();
  await env.startWorker();
});
after(async () => {
  await env?.teardown();
});

describe('gpuflow CLI', () => {
  it('refuses an invalid spec with the field and the fix, and starts nothing', async () => {
    const bad = join(env.dir, 'bad.yaml');
    writeFileSync(bad, 'name: Bad_Name\ncommand: "true"\ngpu: { classes: [L4], count: 0 }\nplacement: { countries: [Germany] }\nmaxPricePerHour: cheap\n');
    const r = await gpuflow('run', bad);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /name: name must be 1-63 lower-case letters/);
    assert.match(r.stderr, /gpu\.count/);
    assert.match(r.stderr, /placement\.countries\.0: "Germany" is not an ISO 3166-1 country code/);
    assert.match(r.stderr, /maxPricePerHour: must be a price in USD per hour/);
    const ps = await gpuflow('ps', '--json');
    assert.equal(ps.code, 0);
    assert.deepEqual(JSON.parse(ps.stdout), [], 'no workflow was started');
  });

  it('names an unknown recipe parameter', async () => {
    const f = join(env.dir, 'recipe-bad.yaml');
    writeFileSync(f, 'name: smoke\nrecipe: { name: smoke-test, params: { secnds: 3 } }\n');
    const r = await gpuflow('run', f);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /recipe\.params\.secnds: recipe "smoke-test" has no such parameter \(it takes: seconds, utilization\)/);
  });

  it('runs a recipe to the end with --json, then lists and shows it', async () => {
    const f = join(env.dir, 'smoke.yaml');
    writeFileSync(f, 'name: smoke\nrecipe: { name: smoke-test, params: { seconds: 1 } }\ngpu: { classes: [L4] }\nspot: never\n');
    const r = await gpuflow('run', f, '--json');
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { workloadId: string; outcome: string; offer: { type: string }; cost: { currency: string } };
    assert.equal(result.outcome, 'succeeded');
    assert.equal(result.offer.type, 'gpu_1x_l4');
    assert.equal(result.cost.currency, 'USD');
    const st = await gpuflow('status', result.workloadId, '--json');
    assert.equal(JSON.parse(st.stdout).state, 'terminated');
    const human = await gpuflow('status', result.workloadId);
    assert.match(human.stdout, /state\s+terminated \(succeeded\)/);
    assert.match(human.stdout, /\ncost\s+0\.\d+ USD/);
  });
});
