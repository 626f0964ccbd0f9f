/**
 * Recurring workloads on a real Temporal dev server: an interval schedule fires a workload that runs
 * to completion on the local cloud; the CLI creates, lists, pauses and deletes schedules; and
 * `gpuflow replay` fetches a finished workload's history and replays it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { SA_PROJECT } from '../../../src/workflows/messages.js';
import { runGpuflow, type CliResult } from '../../helpers/cli.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';

let env: TestEnv;

function gpuflow(...args: string[]): Promise<CliResult> {
  return runGpuflow(env.childEnv, args, 180_000);
}

before(async () => {
  env = await startTestEnv();
  await env.startWorker();
});
after(async () => {
  await env?.teardown();
});

describe('schedules', () => {
  let firedWorkloadId = '';

  it('an interval schedule fires on its own and its workload completes', async () => {
    const sched = await env.client.schedules.create({
      scheduleId: 'smoke-every-3s',
      workload: { recipe: { name: 'smoke-test', params: { seconds: 1 } }, gpu: { classes: ['L4'] }, spot: 'never', project: 'nightly', lifecycle: { kind: 'job', maxDuration: '2m' } },
      every: '3s',
      overlap: 'skip',
      catchupWindow: '30s',
      executionTimeout: '5m',
    });
    // The server holds exactly what was set.
    const raw = await env.client.temporal.schedule.getHandle('smoke-every-3s').describe();
    assert.deepEqual(raw.spec.intervals?.map((i) => [i.every, i.offset ?? 0]), [[3000, 0]]);
    assert.equal(raw.policies.overlap, ScheduleOverlapPolicy.SKIP);
    assert.equal(raw.policies.catchupWindow, 30_000);
    assert.equal(raw.action.workflowType, 'workloadWorkflow');
    assert.equal(raw.action.workflowExecutionTimeout, 300_000, 'every run has an execution timeout');
    const d = await sched.describe();
    assert.equal(d.when, 'every 3s');
    assert.equal(d.project, 'nightly');
    assert.equal(d.spec?.lifecycle.maxDuration, 120_000, 'the workload ends itself before the execution timeout');
    assert.ok(d.nextRuns.length > 0 && d.nextRuns[0]!.getTime() - Date.now() <= 3500);

    // No trigger: wait for the interval itself to start a run.
    const first = await waitFor('the schedule to start a workload', async () => (await sched.describe()).recentRuns[0], 30_000, 250);
    firedWorkloadId = first.workloadId;
    assert.match(firedWorkloadId, /^smoke-every-3s-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'runs are <scheduleId>-<scheduled time>');
    // Pause so no further runs start while this one finishes (overlap skip would skip them anyway).
    await sched.pause('test done');
    const result = await env.client.handle(firedWorkloadId).result();
    assert.equal(result.outcome, 'succeeded');
    assert.equal(result.exitCode, 0);
    assert.equal(result.offer?.type, 'gpu_1x_l4');

    // The scheduled workload is a normal workload: listed by project, marked as scheduled.
    const listed = await waitFor('visibility to list the scheduled workload', async () =>
      (await env.client.list({ project: 'nightly' })).find((w) => w.workloadId === firedWorkloadId),
    );
    assert.equal(listed.project, 'nightly');
    const desc = await env.client.handle(firedWorkloadId).describe();
    assert.equal(desc.typedSearchAttributes.get(SA_PROJECT), 'nightly');
    assert.equal((desc.searchAttributes as Record<string, unknown[]>).TemporalScheduledById?.[0], 'smoke-every-3s');
    assert.equal(desc.memo?.schedule, 'smoke-every-3s');
    assert.equal(desc.memo?.recipe, 'smoke-test');

    const rows = await env.client.schedules.list({ project: 'nightly' });
    assert.deepEqual(rows.map((r) => [r.scheduleId, r.paused]), [['smoke-every-3s', true]]);
    await sched.delete();
    assert.equal(await env.client.schedules.exists('smoke-every-3s'), false);
  });

  it('the CLI creates (and triggers), lists, pauses, unpauses and deletes a schedule; describe shows the running run, times in the schedule\'s zone', async () => {
    // The triggered run lasts until this test stops it: `describe` must see it running.
    const created = await gpuflow('schedule', 'create', 'smoke-test', '--param', 'seconds=600', '--id', 'cli-nightly', '--cron', '0 3 * * *', '--timezone', 'Europe/Berlin', '--overlap', 'buffer-one', '--execution-timeout', '2h', '--trigger', '--json');
    assert.equal(created.code, 0, created.stderr);
    const d = JSON.parse(created.stdout) as { scheduleId: string; when: string; overlap: string; executionTimeoutMs: number; timezone: string; spec: { lifecycle: { maxDuration: number } } };
    assert.equal(d.scheduleId, 'cli-nightly');
    assert.equal(d.when, 'cron 0 3 * * *');
    assert.equal(d.timezone, 'Europe/Berlin');
    assert.equal(d.overlap, 'buffer-one');
    assert.equal(d.executionTimeoutMs, 2 * 3600_000);
    // A trigger's run is not yet among the schedule's running actions when it shows in the recent
    // ones (`running -` once); describe shows it running all the same.
    const running = await waitFor('the triggered run', async () => {
      const r = await gpuflow('schedule', 'describe', 'cli-nightly');
      return /^recent\s+cli-nightly-/m.test(r.stdout) ? r.stdout : undefined;
    }, 30_000, 500);
    const triggered = /^recent\s+(\S+) at /m.exec(running)![1]!;
    assert.match(running, new RegExp(`^running\\s+${triggered}$`, 'm'), running);
    // Times in the schedule's zone: 03:00 in Berlin (01:00 or 02:00 UTC), and the run's start too.
    assert.match(running, /^next\s+\d{4}-\d\d-\d\d 03:00:00 Europe\/Berlin, /m, running);
    assert.match(running, new RegExp(`^recent\\s+${triggered} at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d Europe/Berlin$`, 'm'));
    assert.equal((await env.client.handle(triggered).describe()).status.name, 'RUNNING', 'it was running when described');
    await env.client.handle(triggered).stop('test done');
    assert.equal((await env.client.handle(triggered).result()).outcome, 'stopped');

    const list = await gpuflow('schedule', 'list');
    assert.match(list.stdout, /cli-nightly\s+active\s+cron 0 3 \* \* \*\s+smoke-test\s+\d{4}-\d\d-\d\d 03:00:00 Europe\/Berlin$/m);
    assert.equal((await gpuflow('schedule', 'pause', 'cli-nightly', '--note', 'maintenance')).code, 0);
    const paused = JSON.parse((await gpuflow('schedule', 'list', '--json')).stdout) as { scheduleId: string; paused: boolean; note?: string }[];
    assert.deepEqual(paused.map((p) => [p.scheduleId, p.paused, p.note]), [['cli-nightly', true, 'maintenance']]);
    assert.equal((await gpuflow('schedule', 'unpause', 'cli-nightly')).code, 0);
    const described = (await gpuflow('schedule', 'describe', 'cli-nightly')).stdout;
    assert.match(described, /state\s+active/);
    assert.match(described, /^running\s+-$/m, 'the stopped run is not running');
    assert.equal((await gpuflow('schedule', 'delete', 'cli-nightly')).code, 0);
    assert.equal(await env.client.schedules.exists('cli-nightly'), false);
  });

  it('the CLI refuses a schedule with no bound on its runs, naming the field', async () => {
    const r = await gpuflow('schedule', 'create', join(import.meta.dirname, '..', '..', '..', 'examples', 'hello-gpu.yaml'), '--every', '1h', '--execution-timeout', '10m');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /executionTimeout: must be longer than the workload's lifecycle\.maxDuration \(30m\)/);
    const bad = await gpuflow('schedule', 'create', 'smoke-test', '--every', 'soon');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /every: every must be a duration/);
  });

  it('`gpuflow replay <workflowId>` fetches the scheduled workload’s history and replays it', async () => {
    assert.ok(firedWorkloadId, 'the first test ran');
    const saved = join(env.dir, 'fired.json');
    const r = await gpuflow('replay', firedWorkloadId, '--save', saved);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, new RegExp(`ok\\s+${firedWorkloadId} \\(workloadWorkflow, \\d+ events, server\\)`));
    assert.match(r.stdout, /all 1 history\(ies\) replay deterministically/);
    assert.ok(existsSync(saved));
    assert.ok((JSON.parse(readFileSync(saved, 'utf8')) as { events: unknown[] }).events.length > 10);
  });
});
