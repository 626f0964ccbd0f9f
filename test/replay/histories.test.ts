/**
 * Replays every committed workflow history against the current workflow code: test/histories/*.json
 * (recorded from real workloads by scripts/record-histories.ts) and test/histories/release-* /
 * (recorded by a previous release's code, kept as they were: workloads started on that release may
 * still be running when the new worker takes over). A code change that would break workloads
 * already running fails here, before it ships. No server needed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { nodeEntryArgs } from '../../src/cli/nodeEntry.js';
import { loadHistoryFile, replayHistories } from '../../src/replay/replay.js';
import { workflowsPath } from '../../src/worker/worker.js';
import * as workflows from '../../src/workflows/index.js';

const DIR = join(import.meta.dirname, '..', 'histories');
const jsonIn = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => join(dir, f));
const files = jsonIn(DIR);
/** Histories recorded by earlier releases, one folder per release (release-0.1, ...). */
const RELEASES = readdirSync(DIR, { withFileTypes: true }).filter((d) => d.isDirectory() && d.name.startsWith('release-')).map((d) => d.name).sort();
const releaseFiles = RELEASES.flatMap((r) => jsonIn(join(DIR, r)).map((f) => ({ release: r, file: f })));
const items = [
  ...files.map((f) => loadHistoryFile(f)),
  ...releaseFiles.map(({ release, file }) => loadHistoryFile(file, `${release}/${file.split('/').pop()!.replace(/\.json$/, '')}`)),
];
const RECORD = 'node --import tsx scripts/record-histories.ts';

describe('committed workflow histories', () => {
  it('cover every workflow type and the workload paths', () => {
    const types = new Set(items.map((i) => i.history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name));
    for (const name of Object.keys(workflows)) {
      assert.ok(types.has(name), `no committed history of workflow type ${name}: record some with \`${RECORD}\``);
    }
    const names = files.map((f) => f.split('/').pop()!.replace(/\.json$/, ''));
    for (const needed of ['succeeded', 'failed-over', 'cancelled']) assert.ok(names.includes(needed), `test/histories/${needed}.json is missing`);
  });

  it('include histories recorded by the previous release', () => {
    assert.ok(RELEASES.includes('release-0.1'), 'test/histories/release-0.1/ is missing');
    const workloads = releaseFiles.filter(({ release }) => release === 'release-0.1').map(({ file }) => file.split('/').pop());
    for (const needed of ['succeeded.json', 'failed-over.json', 'cancelled.json', 'stopped-with-updates.json', 'idle-shutdown.json', 'max-duration.json']) {
      assert.ok(workloads.includes(needed), `test/histories/release-0.1/${needed} is missing`);
    }
  });

  it('all replay deterministically against the current workflow code', async () => {
    const reports = await replayHistories(items, { code: { workflowsPath: workflowsPath() } });
    assert.equal(reports.length, items.length);
    const failed = reports.filter((r) => !r.ok);
    assert.deepEqual(
      failed.map((r) => `${r.workflowId}: ${r.failure}: ${r.message}`),
      [],
      `a workflow change breaks recorded histories; version it with patched(), or if no workload on the old code can still be running, re-record with \`${RECORD}\``,
    );
  });

  it('catch a breaking change: a timer added before the first activity is reported as non-determinism', async () => {
    const succeeded = items.find((i) => i.workflowId === 'succeeded')!;
    const [r] = await replayHistories([succeeded], { code: { workflowsPath: join(import.meta.dirname, 'fixtures', 'timer-first.ts') } });
    assert.equal(r?.ok, false);
    assert.equal(r?.failure, 'nondeterminism', r?.message);
  });

  it('`gpuflow replay --history` reports the breaking change and exits 1', async () => {
    const run = promisify(execFile);
    const args = [...nodeEntryArgs('cli/main'), 'replay', '--history', join(DIR, 'succeeded.json'), '--history', join(DIR, 'cancelled.json'), '--workflows', join(import.meta.dirname, 'fixtures', 'timer-first.ts')];
    const err = await run(process.execPath, args, { timeout: 180_000 }).then(
      () => assert.fail('expected exit code 1'),
      (e: { code: number; stdout: string }) => e,
    );
    assert.equal(err.code, 1);
    assert.match(err.stdout, /FAIL {2}succeeded \(workloadWorkflow, \d+ events, .*succeeded\.json\): NON-DETERMINISTIC/);
    assert.match(err.stdout, /Guard the change with patched\(\)/);
    assert.match(err.stdout, /2 of 2 history\(ies\) do not replay/);
  });
});
