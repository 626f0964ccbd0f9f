import assert from 'node:assert/strict';
import { it } from 'node:test';
import { formatGroupStatus } from '../../../src/cli/serviceGroups.js';

it('gpuflow status of a group: one line per replica with its phase, health, capacity and target', () => {
  const out = formatGroupStatus({
    groupId: 'api-1', name: 'api', state: 'running', desired: 2, min: 1, max: 4, onDemandMin: 1, endpoint: '127.0.0.1:8080',
    members: [
      { workloadId: 'api-1-r3', slot: 1, phase: 'draining', onDemand: false, healthy: true, target: '127.0.0.1:8001', state: 'running', startedAt: '2026-12-04T05:00:00.000Z' },
      { workloadId: 'api-1-r1', slot: 0, phase: 'active', onDemand: true, healthy: true, target: '127.0.0.1:8000', state: 'running', startedAt: '2026-12-04T04:00:00.000Z' },
      { workloadId: 'api-1-r4', slot: 2, phase: 'starting', onDemand: false, healthy: false, state: 'provisioning', startedAt: '2026-12-04T05:01:00.000Z', replaces: 'api-1-r2' },
    ],
    replaced: 1,
    scaleEvents: [{ at: '2026-12-04T05:00:00.000Z', from: 1, to: 3, by: 'manual', why: 'event' }],
    proxy: { served: 10, failed: 0, retried: 1, loadPerReplica: 0.5 },
  });
  const lines = out.split('\n');
  assert.match(lines[0]!, /^service group api-1 \(api\): running, 3 replica\(s\), aiming for 2 \(min 1, max 4, on-demand floor 1\)$/);
  assert.match(lines[1]!, /^endpoint: http:\/\/127\.0\.0\.1:8080 {2}\(served 10, failed 0, retried 1, 0\.5 in flight per replica\)$/);
  const rows = lines.filter((l) => /^ {2}\d /.test(l));
  assert.deepEqual(rows.map((l) => l.trim().split(/\s+/).slice(0, 5)), [
    ['0', 'active', 'healthy', 'on-demand', '127.0.0.1:8000'],
    ['1', 'draining', 'healthy', 'spot-pref', '127.0.0.1:8001'],
    ['2', 'starting', 'provisioning', 'spot-pref', '-'],
  ]);
  assert.match(out, /api-1-r4 \(replaces api-1-r2\)/);
  assert.match(out, /manual {7}1 → 3 {2}event/);
});
