import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  blockAfterLoss,
  blockFor,
  checkpointEnv,
  dropTransientBlocks,
  sameRegionFirst,
  shouldRestartJob,
  watchdogLeaseMs,
} from '../../../src/workflows/recoveryPolicy.js';
import { describeLoss, instanceLost } from '../../../src/workload/instanceLoss.js';
import { parseWorkloadSpec } from '../../../src/workload/spec.js';
import type { BlockedScope } from '../../../src/routing/constraints.js';
import type { Offer } from '../../../src/routing/offer.js';

const base = { name: 'r', command: 'true', gpu: { classes: ['H100'] } };

function offer(connection: string, location: string, id: string): Offer {
  return { connection, location, instanceTypeId: id } as Offer;
}

describe('recovery policy', () => {
  it('eager-next-region blocks the lost region; failover blocks nothing', () => {
    assert.deepEqual(blockAfterLoss('eager-next-region', { connection: 'local', location: 'us-east' }), {
      connection: 'local',
      scope: 'region',
      location: 'us-east',
      reason: 'InstanceLost',
    });
    assert.equal(blockAfterLoss('failover', { connection: 'local', location: 'us-east' }), undefined);
  });

  it('a failed create blocks the scope its error names', () => {
    const o = { connection: 'lambda', location: 'us-east-1', subLocation: 'a', type: 'gpu_1x_h100', instanceTypeId: 'id-1', spot: true } as Offer;
    assert.deepEqual(blockFor(o, 'InsufficientCapacityError', 'zone'), {
      connection: 'lambda', reason: 'InsufficientCapacityError', scope: 'zone', location: 'us-east-1', subLocation: 'a', type: 'gpu_1x_h100', spot: true,
    });
    assert.deepEqual(blockFor(o, 'OutOfQuotaError', 'region'), { connection: 'lambda', reason: 'OutOfQuotaError', scope: 'region', location: 'us-east-1' });
    assert.deepEqual(blockFor(o, 'AuthenticationError', 'provider'), { connection: 'lambda', reason: 'AuthenticationError', scope: 'provider' });
    assert.deepEqual(blockFor(o, 'ProvisioningFailed', undefined), { connection: 'lambda', reason: 'ProvisioningFailed', scope: 'offer', instanceTypeId: 'id-1', spot: true });
  });

  it('failover puts the lost region first and keeps the ranked order otherwise', () => {
    const ranked = [offer('a', 'x', '1'), offer('b', 'y', '2'), offer('a', 'y', '3'), offer('b', 'y', '4')];
    assert.deepEqual(sameRegionFirst(ranked, { connection: 'b', location: 'y' }).map((o) => o.instanceTypeId), ['2', '4', '1', '3']);
    assert.deepEqual(sameRegionFirst(ranked, { connection: 'c', location: 'z' }), ranked);
  });

  it('capacity and loss blocks expire; auth and spending-cap blocks stay', () => {
    const blocked: BlockedScope[] = [
      { connection: 'a', scope: 'zone', reason: 'InsufficientCapacityError' },
      { connection: 'b', scope: 'provider', reason: 'AuthenticationError' },
      { connection: 'c', scope: 'region', reason: 'InstanceLost' },
      { connection: 'd', scope: 'provider', reason: 'SpendingCapReached' },
    ];
    assert.equal(dropTransientBlocks(blocked), 2);
    assert.deepEqual(blocked.map((b) => b.connection), ['b', 'd']);
  });

  it('reruns a failed job only within maxRestartsOnError and the listed exit codes', () => {
    const any = parseWorkloadSpec({ ...base, recovery: { maxRestartsOnError: 2 } }).recovery;
    assert.equal(shouldRestartJob(any, 0, 0), false, 'success never reruns');
    assert.equal(shouldRestartJob(any, 1, 0), true);
    assert.equal(shouldRestartJob(any, 137, 1), true);
    assert.equal(shouldRestartJob(any, 1, 2), false, 'limit reached');
    const listed = parseWorkloadSpec({ ...base, recovery: { maxRestartsOnError: 5, restartExitCodes: [3, 75] } }).recovery;
    assert.equal(shouldRestartJob(listed, 75, 0), true);
    assert.equal(shouldRestartJob(listed, 1, 0), false, 'an unlisted code fails the workload');
    assert.equal(shouldRestartJob(parseWorkloadSpec(base).recovery, 1, 0), false, 'default: no reruns');
  });

  it('the watchdog is on by default for jobs, off for services, and configurable', () => {
    assert.equal(watchdogLeaseMs(parseWorkloadSpec(base)), 600_000);
    assert.equal(watchdogLeaseMs(parseWorkloadSpec({ ...base, lifecycle: { kind: 'service' } })), undefined);
    assert.equal(watchdogLeaseMs(parseWorkloadSpec({ ...base, watchdog: { lease: '90s' } })), 90_000);
    assert.equal(watchdogLeaseMs(parseWorkloadSpec({ ...base, watchdog: 'off' })), undefined);
  });

  it('puts checkpoints of every attempt under one task path', () => {
    const spec = parseWorkloadSpec({ ...base, checkpoint: { dir: '/mnt/ckpt/', uri: 's3://bucket/runs' } });
    assert.deepEqual(checkpointEnv(spec, 'nightly-2026-11-24T09:00:00Z'), {
      GPUFLOW_CHECKPOINT_DIR: '/mnt/ckpt/nightly-2026-11-24T09_00_00Z',
      GPUFLOW_CHECKPOINT_URI: 's3://bucket/runs/nightly-2026-11-24T09_00_00Z',
    });
    assert.deepEqual(checkpointEnv(parseWorkloadSpec(base), 'w'), {}, 'default: the node-local directory');
  });
});

describe('instance loss', () => {
  it('is what the provider says, not a guess', () => {
    assert.equal(instanceLost({ lifecycleStatus: 'running' }), false);
    assert.equal(instanceLost({ lifecycleStatus: 'pending' }), false);
    assert.equal(instanceLost({ lifecycleStatus: 'terminated', interruption: 'preempted' }), true);
    assert.equal(instanceLost({ lifecycleStatus: 'stopped' }), true);
    assert.equal(instanceLost({ lifecycleStatus: 'running', interruption: 'host-failure' }), true);
    assert.equal(describeLoss({ lifecycleStatus: 'terminated', interruption: 'preempted', messages: ['spot instance preempted: reclaimed'] }), 'preempted: spot instance preempted: reclaimed');
  });
});

describe('recovery and service fields of the spec', () => {
  const bad = (input: object, pattern: RegExp) => assert.throws(() => parseWorkloadSpec({ ...base, ...input }), pattern);
  it('names the field and the fix', () => {
    bad({ spotWait: '10m' }, /spotWait: spotWait needs spot: allow/);
    bad({ spot: 'allow', spotWait: 'soon' }, /spotWait: spotWait must be a duration/);
    bad({ recovery: { strategy: 'nearest' } }, /recovery\.strategy/);
    bad({ recovery: { restartExitCodes: [0] } }, /recovery\.restartExitCodes\.0/);
    bad({ checkpoint: { dir: 'relative/path' } }, /checkpoint\.dir: checkpoint\.dir must be an absolute path/);
    bad({ checkpoint: { uri: 'bucket' } }, /checkpoint\.uri must be a URI such as s3:\/\/bucket\/prefix/);
    bad({ service: { maxRestarts: 2 } }, /service: service settings need lifecycle: \{ kind: service \}/);
    bad(
      { lifecycle: { kind: 'service' }, ports: [{ port: 8000 }], service: { healthCheck: { port: 9000 } } },
      /service\.healthCheck\.port: port 9000 is not in ports: add \{ port: 9000 \} to ports/,
    );
    bad({ ports: [{ port: 80 }, { port: 80 }] }, /ports\.1\.port: port 80 is declared twice/);
    bad({ retryUntilUp: '-1h' }, /retryUntilUp must be a duration/);
    bad({ watchdog: { lease: '2s' } }, /watchdog\.lease: watchdog\.lease must be at least "5s"/);
  });

  it('parses durations and defaults', () => {
    const s = parseWorkloadSpec({
      ...base,
      spot: 'allow',
      spotWait: '15m',
      retryUntilUp: '2h',
      lifecycle: { kind: 'service' },
      ports: [{ port: 8000, public: true, hostPort: 80 }],
      service: { healthCheck: { port: 8000, path: '/health' } },
    });
    assert.equal(s.spotWait, 900_000);
    assert.equal(s.retryUntilUp, 7_200_000);
    assert.deepEqual(s.recovery, { strategy: 'eager-next-region', maxRecoveries: 3, maxRestartsOnError: 0 });
    assert.deepEqual(s.service, {
      healthCheck: { port: 8000, path: '/health', interval: 10_000, timeout: 5_000, failureThreshold: 3, startupTimeout: 600_000 },
      maxRestarts: 5,
    });
  });
});
