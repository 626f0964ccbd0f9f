/** The workload as data: its transitions and what status shows, without Temporal (milliseconds). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InstanceView } from '../../../src/activities/types.js';
import { PER_SECOND } from '../../../src/money/billing.js';
import { moneyFromDecimal, toJSON } from '../../../src/money/money.js';
import type { Offer } from '../../../src/routing/offer.js';
import { autoShutdownSettingsError } from '../../../src/workload/autoShutdownSettings.js';
import { parseWorkloadSpec } from '../../../src/workload/spec.js';
import {
  finalOutcome,
  newWorkloadRun,
  planAttempt,
  recordCapRefusal,
  recordCreated,
  recordEnded,
  recordIdleSample,
  recordLoss,
  recordServiceDown,
  recordServiceUp,
  recordTerminated,
  requestStop,
  setAutoShutdown,
  shouldContinueAsNew,
  stopRefusal,
  whyChosen,
  type WorkloadRun,
} from '../../../src/workload/state.js';
import { resultOf, statusOf } from '../../../src/workload/status.js';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const FEATURES = { awaitLongActivities: true, continueAsNew: true };

function newRun(extra: Record<string, unknown> = {}, features = FEATURES): WorkloadRun {
  return newWorkloadRun({ workloadId: 'wl-1', spec: parseWorkloadSpec({ name: 'w', command: 'true', gpu: { classes: ['L4'] }, ...extra }), now: T0, features, historyLimit: 100 });
}

const offer = (over: Partial<Offer> = {}): Offer =>
  ({
    connection: 'local',
    provider: 'local',
    instanceTypeId: 'gpu_1x_l4@us-east',
    type: 'gpu_1x_l4',
    location: 'us-east',
    country: 'USA',
    spot: false,
    gpu: { count: 1, type: 'L4' },
    pricePerHour: toJSON(moneyFromDecimal('0.75', 'USD', 2)),
    ...over,
  }) as Offer;

const view = (cloudId: string, createdAt: string): InstanceView =>
  ({
    instance: { cloudId, location: 'us-east', createdAt, publicIp: '127.0.0.1', sshPort: 2222, sshUser: 'root', status: { lifecycleStatus: 'running', messages: [] } },
    pollMs: 500,
    provisioningTimeoutMs: 60_000,
  }) as unknown as InstanceView;

/** A run with one created, running instance. */
function placed(run = newRun()): WorkloadRun {
  const record = planAttempt(run, offer(), T0 + 1_000);
  recordCreated(run, record, offer(), view('i-1', new Date(T0 + 2_000).toISOString()), PER_SECOND, 'cheapest', T0 + 2_000);
  return run;
}

describe('WorkloadRun transitions', () => {
  it('a stop: the first reason wins, and a terminating workload refuses another', () => {
    const run = newRun();
    assert.equal(requestStop(run, 'idle-shutdown'), true);
    assert.equal(requestStop(run, 'stopped'), false);
    assert.equal(run.stopReason, 'idle-shutdown');
    assert.equal(run.state, 'stopping');
    assert.equal(stopRefusal(run), undefined);
    run.state = 'terminating';
    assert.match(stopRefusal(run)!, /already terminating/);
  });

  it('attempts get sequential refIds; a cap refusal blocks its connection and fails over', () => {
    const run = newRun();
    recordCapRefusal(run, offer({ connection: 'lambda' }), 'cap reached');
    const a = planAttempt(run, offer(), T0);
    assert.deepEqual(run.attempts.map((x) => [x.refId, x.outcome]), [['wl-1-1', 'failed-over'], ['wl-1-2', 'created']]);
    assert.equal(a.plannedAt, new Date(T0).toISOString());
    assert.deepEqual(run.blocked, [{ connection: 'lambda', reason: 'SpendingCapReached', scope: 'provider' }]);
    assert.match(run.attempts[0]!.reason!, /^SpendingCapReached: cap reached/);
  });

  it('a created instance becomes live, billed and the chosen offer', () => {
    const run = placed();
    assert.equal(run.live, true);
    assert.deepEqual(run.ref, { connection: 'local', cloudId: 'i-1', location: 'us-east' });
    assert.equal(run.offer?.gpu, '1x L4');
    assert.equal(run.billed.length, 1);
    assert.equal(run.attempts[0]!.cloudId, 'i-1');
  });

  it('explains the choice: the cheapest first time, a rank otherwise', () => {
    assert.match(whyChosen({ rank: 0, pass: 0, lost: false, candidates: 3, considered: 9, recoveries: 0, attempts: 1 }), /cheapest of 3 matching offers \(9 considered\)/);
    assert.match(whyChosen({ rank: 1, pass: 0, lost: true, candidates: 3, considered: 9, recoveries: 1, attempts: 3 }), /rank 2 in pass 1 of recovery 1 after 2 earlier/);
  });

  it('termination ends the bill and the attempt; a loss marks it interrupted', () => {
    const run = placed();
    recordLoss(run, run.attempts[0]!, { status: 'terminated', interruption: 'preempted', reason: 'preempted: reclaimed', providerEndedAt: '2026-12-01T10:01:00.000Z', detectedAt: 'x' }, T0 + 61_000);
    run.live = false;
    recordTerminated(run, run.ref!, run.billed[0], '2026-12-01T10:01:00.500Z');
    const a = run.attempts[0]!;
    assert.equal(a.outcome, 'interrupted');
    assert.equal(a.providerEndedAt, '2026-12-01T10:01:00.000Z');
    assert.equal(a.terminatedAt, '2026-12-01T10:01:00.500Z');
    assert.equal(run.billed[0]!.terminatedAt, '2026-12-01T10:01:00.500Z');
    recordEnded(run, T0 + 70_000);
    assert.equal(a.outcome, 'interrupted', 'an interrupted attempt stays interrupted');
  });

  it('the attempt a workload ends on is completed once terminated', () => {
    const run = placed();
    run.live = false;
    recordTerminated(run, run.ref!, run.billed[0], '2026-12-01T10:05:00.000Z');
    recordEnded(run, T0 + 300_000);
    assert.equal(run.attempts[0]!.outcome, 'completed');
    assert.equal(run.finished, true);
  });

  it('idle samples: busy resets, idle starts the window, the full window shuts down', () => {
    const run = placed(newRun({ autoShutdown: { utilizationBelowPercent: 10, idleWindow: '10s', sampleInterval: '1s' } }));
    const cfg = run.autoShutdown as Exclude<WorkloadRun['autoShutdown'], 'off'>;
    assert.equal(recordIdleSample(run, cfg, { utilization: [3] }, T0), 'idle');
    assert.equal(run.idleSinceMs, T0);
    assert.equal(recordIdleSample(run, cfg, { utilization: [3] }, T0 + 5_000), 'idle');
    assert.equal(recordIdleSample(run, cfg, { utilization: [50] }, T0 + 6_000), 'busy');
    assert.equal(run.idleSinceMs, undefined);
    assert.equal(recordIdleSample(run, cfg, { utilization: [0] }, T0 + 7_000), 'idle');
    assert.equal(recordIdleSample(run, cfg, { utilization: [0] }, T0 + 17_000), 'shutdown');
    assert.equal(recordIdleSample(run, cfg, { utilization: [] }, T0 + 18_000), 'busy', 'no GPUs read is not idle');
  });

  it('idle with requireNoSshSessions: a login keeps the node', () => {
    const run = placed(newRun({ autoShutdown: { utilizationBelowPercent: 10, idleWindow: '1s', sampleInterval: '1s', requireNoSshSessions: true } }));
    const cfg = run.autoShutdown as Exclude<WorkloadRun['autoShutdown'], 'off'>;
    assert.equal(recordIdleSample(run, cfg, { utilization: [0], sshSessions: 1 }, T0), 'busy');
    assert.equal(run.sshSessions, 1);
    assert.equal(recordIdleSample(run, cfg, { utilization: [0], sshSessions: 0 }, T0 + 1), 'idle');
    assert.equal(recordIdleSample(run, cfg, { utilization: [0], sshSessions: 0 }, T0 + 2_000), 'shutdown');
  });

  it('new auto-shutdown settings restart the idle window', () => {
    const run = placed();
    run.idleSinceMs = T0;
    setAutoShutdown(run, { utilizationBelowPercent: 5, idleWindow: 60_000, sampleInterval: 1_000, requireNoSshSessions: false });
    assert.equal(run.idleSinceMs, undefined);
    assert.equal(autoShutdownSettingsError('off'), undefined);
    assert.match(autoShutdownSettingsError({ utilizationBelowPercent: 101, idleWindow: 1, sampleInterval: 1 })!, /utilizationBelowPercent must be 0-100/);
    assert.match(autoShutdownSettingsError({ utilizationBelowPercent: 5, idleWindow: -1, sampleInterval: 1 })!, /idleWindow/);
  });

  it('service up and down keep endpoints and the restart reason', () => {
    const run = placed();
    recordServiceUp(run, [{ port: 80, hostPort: 8080, public: true, host: '127.0.0.1', url: 'http://127.0.0.1:8080' }]);
    recordServiceDown(run, 'exited (exit code 3): gone');
    assert.equal(run.service?.healthy, false);
    assert.equal(run.service?.endpoints.length, 1);
    recordServiceUp(run, run.service!.endpoints);
    assert.equal(run.service?.lastRestartReason, 'exited (exit code 3): gone');
  });

  it('the final outcome: a stop reason, else the exit code', () => {
    const run = newRun();
    run.exitCode = 0;
    assert.equal(finalOutcome(run), 'succeeded');
    run.exitCode = 2;
    assert.equal(finalOutcome(run), 'failed');
    requestStop(run, 'max-duration');
    assert.equal(finalOutcome(run), 'max-duration');
  });

  it('continues as new only past the limit, after progress, never while stopping or on 0.1 workloads', () => {
    const run = newRun();
    assert.equal(shouldContinueAsNew(run, { historyLength: 99, suggested: false, sinceLength: 10 }), false);
    assert.equal(shouldContinueAsNew(run, { historyLength: 100, suggested: false, sinceLength: 10 }), true);
    assert.equal(shouldContinueAsNew(run, { historyLength: 20, suggested: true, sinceLength: 10 }), true);
    assert.equal(shouldContinueAsNew(run, { historyLength: 120, suggested: false, sinceLength: 120 }), false, 'nothing happened since attaching');
    assert.equal(shouldContinueAsNew(newRun({}, { awaitLongActivities: false, continueAsNew: false }), { historyLength: 500, suggested: true, sinceLength: 0 }), false);
    requestStop(run, 'stopped');
    assert.equal(shouldContinueAsNew(run, { historyLength: 500, suggested: true, sinceLength: 0 }), false);
  });

  it('survives a JSON round trip (what continue-as-new carries)', () => {
    const run = placed();
    run.budget.grants['project:default'] = toJSON(moneyFromDecimal('1.50', 'USD', 2));
    const copy = JSON.parse(JSON.stringify(run)) as WorkloadRun;
    assert.deepEqual(copy, run);
    assert.deepEqual(statusOf(copy, T0 + 10_000), statusOf(run, T0 + 10_000));
  });
});

describe('status of a WorkloadRun', () => {
  it('while running: SSH line, utilization, holds, cost and elapsed at query time', () => {
    const run = placed();
    run.gpuUtilization = [42];
    run.budget.seq = 1;
    run.budget.grants['project:default'] = toJSON(moneyFromDecimal('0.75', 'USD', 2));
    const s = statusOf(run, T0 + 3_602_000);
    assert.equal(s.instance?.sshHost, '127.0.0.1');
    assert.deepEqual(s.gpuUtilization, [42]);
    assert.equal(s.budgets?.length, 1);
    assert.equal(s.elapsedMs, 3_602_000);
    assert.equal(s.asOf, new Date(T0 + 3_602_000).toISOString());
    assert.equal(s.costExact, '0.75000000 USD', 'one hour at 0.75/h, at the ledger scale (8 decimals)');
    assert.equal(s.costBasis.length, 1);
  });

  it('once ended: no SSH line, no utilization, no released holds; cost and elapsed frozen at the end', () => {
    const run = placed();
    run.gpuUtilization = [42];
    run.sshSessions = 0;
    run.idleSinceMs = T0;
    run.budget.seq = 2;
    run.budget.grants['project:default'] = toJSON(moneyFromDecimal('0.75', 'USD', 2));
    run.budget.settled = true;
    recordServiceUp(run, [{ port: 80, hostPort: 8080, public: true, host: '127.0.0.1', url: 'http://127.0.0.1:8080' }]);
    run.live = false;
    recordTerminated(run, run.ref!, run.billed[0], new Date(T0 + 2_000 + 1_234).toISOString());
    run.outcome = 'succeeded';
    run.state = 'terminated';
    recordEnded(run, T0 + 10_000);
    const s = statusOf(run, T0 + 999_999);
    assert.equal(s.instance?.sshHost, undefined);
    assert.equal(s.instance?.sshPort, undefined);
    assert.equal(s.instance?.terminatedAt, new Date(T0 + 3_234).toISOString());
    assert.equal(s.gpuUtilization, undefined);
    assert.equal(s.sshSessions, undefined);
    assert.equal(s.idleSince, undefined);
    assert.equal(s.budgets, undefined);
    assert.equal(s.budgetsSettled, true);
    assert.deepEqual(s.service?.endpoints, []);
    assert.equal(s.service?.healthy, false);
    assert.equal(s.endedAt, new Date(T0 + 10_000).toISOString());
    assert.equal(s.elapsedMs, 10_000);
    // 1.234 s, billed per started second: 2 s at 0.75/h = 0.000416666… → rounded up at 8 decimals
    assert.equal(s.costExact, '0.00041667 USD');
    assert.equal(s.attempts[0]!.outcome, 'completed');
    assert.equal(resultOf(run, T0 + 999_999).cost.amount, s.costSoFar.amount);
  });
});

describe('status brought to the client clock', () => {
  it('a running workload: elapsed and cost at the client time; an ended one stays as it is', async () => {
    const { statusNow } = await import('../../../src/workload/statusNow.js');
    const run = placed();
    const s = statusOf(run, T0 + 2_000);
    const later = statusNow(s, T0 + 2_000 + 3_600_000);
    assert.equal(later.elapsedMs, 3_602_000);
    assert.equal(later.costExact, '0.75000000 USD');
    run.live = false;
    recordTerminated(run, run.ref!, run.billed[0], new Date(T0 + 3_000).toISOString());
    run.state = 'terminated';
    recordEnded(run, T0 + 3_000);
    const ended = statusOf(run, T0 + 3_000);
    assert.deepEqual(statusNow(ended, T0 + 99_000_000), ended);
  });
});
