import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { InvalidScheduleError, planSchedule } from '../../../src/schedules/schedule.js';

const job = { name: 'nightly', command: 'true', gpu: { classes: ['L4'] }, lifecycle: { maxDuration: '1h' } };

function scheduleError(input: unknown): InvalidScheduleError {
  try {
    planSchedule(input, 'q');
  } catch (e) {
    assert.ok(e instanceof InvalidScheduleError, String(e));
    return e;
  }
  assert.fail('expected InvalidScheduleError');
}

describe('planSchedule', () => {
  it('builds an interval schedule whose action starts workloadWorkflow with the parsed spec and an execution timeout', () => {
    const { options, executionTimeoutMs, spec } = planSchedule({ workload: job, every: '6h', offset: '15m', jitter: '1m', overlap: 'buffer-one', catchupWindow: '10m' }, 'gpuflow');
    assert.equal(options.scheduleId, 'nightly');
    assert.deepEqual(options.spec, { intervals: [{ every: 6 * 3600_000, offset: 15 * 60_000 }], jitter: 60_000 });
    assert.equal(options.action.workflowType, 'workloadWorkflow');
    assert.equal(options.action.workflowId, 'nightly');
    assert.equal(options.action.taskQueue, 'gpuflow');
    assert.deepEqual(options.action.args, [{ spec }]);
    assert.equal(executionTimeoutMs, 90 * 60_000, 'maxDuration 1h + 30m to provision and terminate');
    assert.equal(options.action.workflowExecutionTimeout, executionTimeoutMs);
    assert.deepEqual(options.policies, { overlap: ScheduleOverlapPolicy.BUFFER_ONE, catchupWindow: 600_000, pauseOnFailure: false });
    assert.equal(options.memo?.project, 'default');
    assert.match(String(options.action.staticSummary), /nightly \(1x L4\), scheduled by nightly/);
  });

  it('takes cron expressions (with a time zone) and a recipe as the workload', () => {
    const { options, spec } = planSchedule({ scheduleId: 'smoke-nightly', workload: { recipe: { name: 'smoke-test', params: { seconds: 1 } } }, cron: '0 3 * * *', timezone: 'Europe/Berlin' }, 'q');
    assert.deepEqual(options.spec, { cronExpressions: ['0 3 * * *'], timezone: 'Europe/Berlin' });
    assert.equal(spec.recipeRef?.name, 'smoke-test');
    assert.equal(options.action.workflowExecutionTimeout, 30 * 60_000 + 30 * 60_000, "the recipe's maxDuration 30m + 30m");
    assert.equal(options.policies?.overlap, ScheduleOverlapPolicy.SKIP, 'skip by default');
    assert.equal(options.policies?.catchupWindow, 60_000);
  });

  it('always sets an execution timeout: derives maxDuration from it so the workload ends cleanly first', () => {
    const { spec, executionTimeoutMs } = planSchedule({ workload: { ...job, lifecycle: {} }, every: '1h', executionTimeout: '2h' }, 'q');
    assert.equal(executionTimeoutMs, 2 * 3600_000);
    assert.equal(spec.lifecycle.maxDuration, 90 * 60_000, '30 min before the hard limit');
    const short = planSchedule({ workload: { ...job, lifecycle: {} }, every: '10s', executionTimeout: '2m' }, 'q');
    assert.equal(short.spec.lifecycle.maxDuration, 90_000, 'a quarter of a short timeout is kept as margin');
  });

  it('refuses a schedule without any bound on its runs, naming the fields', () => {
    const e = scheduleError({ workload: { ...job, lifecycle: {} }, every: '1h' });
    assert.equal(e.issues[0]?.path, 'executionTimeout');
    assert.match(e.message, /a stuck run cannot silently skip later ones: set executionTimeout \(e\.g\. "2h"\) or the workload's lifecycle\.maxDuration/);
    const e2 = scheduleError({ workload: job, every: '1h', executionTimeout: '30m' });
    assert.match(e2.message, /executionTimeout: must be longer than the workload's lifecycle\.maxDuration \(1h\)/);
  });

  it('names every bad field, including the workload’s', () => {
    const e = scheduleError({ workload: { ...job, gpu: { classes: [] } }, cron: 'every day', every: '1h', overlap: 'sometimes', catchupWindow: '1s', colour: 1 });
    const paths = e.issues.map((i) => i.path);
    assert.ok(paths.includes('cron.0') && paths.includes('overlap') && paths.includes('catchupWindow') && paths.includes(''), paths.join(','));
    assert.match(e.message, /"every day" is not a cron expression/);
    assert.match(e.message, /catchupWindow must be a duration .* of at least 10s/);
    assert.match(e.message, /unknown field\(s\) colour/);
    assert.match(scheduleError({ workload: job }).message, /cron: set exactly one of cron .* or every/);
    assert.match(scheduleError({ workload: job, every: '1h', offset: '2h' }).message, /offset: offset must be shorter than every/);
    const w = scheduleError({ workload: { ...job, gpu: { classes: [] } }, every: '1h' });
    assert.deepEqual(w.issues.map((i) => i.path), ['workload.gpu.classes']);
    assert.match(scheduleError({ workload: { recipe: { name: 'smoke-test', params: { seconds: 'x' } } }, every: '1h' }).message, /workload\.recipe\.params\.seconds: must be a number/);
  });
});
