import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWorkloadSpec } from '../../../src/workload/spec.js';
import type { ReplicaMember } from '../../../src/workflows/serviceGroupMessages.js';
import { desiredReplicas, freeSlot, loadChangeAllowed, nextIsOnDemand, pickToDrain, replicaSpec, replicasForLoad } from '../../../src/workflows/serviceGroupPolicy.js';

const member = (slot: number, over: Partial<ReplicaMember> = {}): ReplicaMember => ({
  workloadId: `g-r${slot + 1}`, slot, phase: 'active', onDemand: false, healthy: true, startedAt: `2026-12-04T05:0${slot}:00.000Z`, ...over,
});

const groupSpec = () =>
  parseWorkloadSpec({
    name: 'api', command: 'serve', gpu: { classes: ['L4'] }, lifecycle: { kind: 'service' }, spot: 'never', spotWait: undefined,
    ports: [{ port: 8000, public: true }, { port: 9000, hostPort: 9100 }],
    service: { healthCheck: { port: 8000, path: '/health' }, replicas: { min: 1, max: 4, portStride: 10 }, onDemandMin: 1, endpoint: { port: 80 }, autoscale: { targetInFlight: 4 } },
  });

describe('service group policy', () => {
  it("a replica's spec: one replica, no group settings, ports shifted by its slot, spot preferred unless it holds the floor", () => {
    const spot = replicaSpec(groupSpec(), 2, false);
    assert.equal(spot.spot, 'allow');
    assert.deepEqual(spot.ports, [{ port: 8000, public: true, hostPort: 8020 }, { port: 9000, public: false, hostPort: 9120 }]);
    assert.deepEqual(Object.keys(spot.service!).sort(), ['healthCheck', 'maxRestarts']);
    const onDemand = replicaSpec(groupSpec(), 0, true);
    assert.equal(onDemand.spot, 'never');
    assert.deepEqual(onDemand.ports.map((p) => p.hostPort ?? p.port), [8000, 9100]);
  });

  it('slots: the lowest one free, draining replicas still hold theirs', () => {
    assert.equal(freeSlot([]), 0);
    assert.equal(freeSlot([member(0), member(1, { phase: 'draining' }), member(3)]), 2);
  });

  it('on-demand floor: the next replica is on-demand until onDemandMin serving replicas are', () => {
    assert.equal(nextIsOnDemand([], 1), true);
    assert.equal(nextIsOnDemand([member(0, { onDemand: true })], 1), false);
    assert.equal(nextIsOnDemand([member(0, { onDemand: true, phase: 'draining' })], 1), true, 'a draining one does not count');
  });

  it('scale-down drains unhealthy first, then spot, newest first, and keeps the on-demand floor', () => {
    const ms = [member(0, { onDemand: true }), member(1), member(2), member(3, { healthy: false })];
    assert.deepEqual(pickToDrain(ms, 2, 1).map((m) => m.slot), [3, 2]);
    assert.deepEqual(pickToDrain(ms, 3, 1).map((m) => m.slot), [3, 2, 1]);
    assert.deepEqual(pickToDrain(ms, 4, 1).map((m) => m.slot), [3, 2, 1], 'the last on-demand replica stays');
    assert.deepEqual(pickToDrain(ms, 4, 0).map((m) => m.slot), [3, 2, 1, 0]);
  });

  it('load: enough replicas for the target in flight each, within min..max', () => {
    assert.equal(replicasForLoad(0, 4, 1, 8), 1);
    assert.equal(replicasForLoad(4, 4, 1, 8), 1);
    assert.equal(replicasForLoad(4.1, 4, 1, 8), 2);
    assert.equal(replicasForLoad(12, 3, 1, 8), 4);
    assert.equal(replicasForLoad(100, 3, 1, 8), 8);
  });

  it('a schedule burst raises the floor until it ends', () => {
    assert.equal(desiredReplicas(2, { replicas: 6, untilMs: 1000 }, 999, 1, 8), 6);
    assert.equal(desiredReplicas(2, { replicas: 6, untilMs: 1000 }, 1000, 1, 8), 2);
    assert.equal(desiredReplicas(7, { replicas: 6, untilMs: 1000 }, 0, 1, 8), 7);
    assert.equal(desiredReplicas(2, { replicas: 20, untilMs: 1000 }, 0, 1, 8), 8);
  });

  it('cool-down: up once the last load change is cooldown old, down once any change is', () => {
    assert.equal(loadChangeAllowed(4, 1, 10_000, undefined, 9_000, 5_000), true, 'a first scale-up waits for nothing');
    assert.equal(loadChangeAllowed(4, 2, 10_000, 8_000, 8_000, 5_000), false);
    assert.equal(loadChangeAllowed(1, 4, 10_000, 2_000, 8_000, 5_000), false, 'down waits for the last change (a manual one too)');
    assert.equal(loadChangeAllowed(1, 4, 14_000, 2_000, 8_000, 5_000), true);
    assert.equal(loadChangeAllowed(3, 3, 99_000, undefined, undefined, 5_000), false);
  });
});

describe('service group spec', () => {
  const base = { name: 'api', command: 'serve', gpu: { classes: ['L4'] }, lifecycle: { kind: 'service' }, ports: [{ port: 8000 }] };
  const issues = (service: unknown) => {
    try {
      parseWorkloadSpec({ ...base, service });
      return [];
    } catch (e) {
      return (e as { issues: { path: string; message: string }[] }).issues.map((i) => `${i.path}: ${i.message}`);
    }
  };

  it('names the field and the fix', () => {
    assert.deepEqual(issues({ replicas: { min: 3, max: 2 }, endpoint: { port: 80 } }), ['service.replicas: service.replicas.min must be <= service.replicas.max, e.g. { min: 1, max: 4 }']);
    assert.deepEqual(issues({ replicas: { min: 1, max: 2 } }), ['service.endpoint: service.replicas needs service.endpoint: { port } (where the proxy in front of the replicas listens)']);
    assert.deepEqual(issues({ autoscale: { targetInFlight: 2 } }), ['service.autoscale: service.autoscale needs service.replicas: { min, max }']);
    assert.deepEqual(issues({ replicas: { min: 1, max: 2 }, endpoint: { port: 80 }, onDemandMin: 3 }), ['service.onDemandMin: service.onDemandMin (3) must be <= service.replicas.max (2)']);
    assert.deepEqual(issues({ replicas: { min: 1, max: 2 }, endpoint: { port: 80 }, scale: [{ at: 'fridays', replicas: 2, for: '2h' }] }), ['service.scale.0.at: service.scale[].at must be a 5-field cron expression such as "0 18 * * FRI"']);
    assert.deepEqual(issues({ replicas: { min: 1, max: 2 }, endpoint: { port: 80 }, scale: [{ at: '0 18 * * FRI', replicas: 8, for: '2h' }] }), ['service.scale.0.replicas: 8 replicas is more than service.replicas.max (2)']);
  });

  it('parses durations and defaults', () => {
    const s = parseWorkloadSpec({ ...base, service: { replicas: { min: 1, max: 8 }, endpoint: { port: 80 }, scale: [{ at: '0 18 * * FRI', replicas: 8, for: '2h' }], autoscale: { targetInFlight: 4, cooldown: '2m' } } });
    assert.deepEqual(s.service!.scale, [{ at: '0 18 * * FRI', replicas: 8, for: 7_200_000 }]);
    assert.deepEqual(s.service!.autoscale, { targetInFlight: 4, window: 5_000, cooldown: 120_000 });
    assert.deepEqual(s.service!.endpoint, { port: 80, host: '0.0.0.0', drainTimeout: 30_000 });
    assert.equal(s.service!.replicas!.portStride, 0);
  });
});
