/** Pure parts of the daily-use CLI: output de-duplication, status rendering, GPU names, hints. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import { GpuflowClient } from '../../../src/client/gpuflowClient.js';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { followWorkload } from '../../../src/cli/follow.js';
import type { WorkloadAccess } from '../../../src/cli/workloadBackend.js';
import { GpuflowServerClient } from '../../../src/server/client/serverClient.js';
import { newLines } from '../../../src/cli/jobOutput.js';
import { formatStatus, relativeTime } from '../../../src/cli/format.js';
import { sshCommandLine } from '../../../src/cli/sshAccess.js';
import { withReadableDurations } from '../../../src/cli/recipes.js';
import { zonedTime } from '../../../src/cli/schedule.js';
import { workloadsViewUrl } from '../../../src/cli/webUi.js';
import { isKnownGpuClass, nearestGpuClasses, unknownGpuClassMessage } from '../../../src/routing/gpuClassNames.js';
import { InvalidWorkloadSpecError, parseWorkloadSpec } from '../../../src/workload/spec.js';
import type { WorkloadStatus } from '../../../src/workflows/messages.js';

describe('job output de-duplication', () => {
  it('prints only lines after the overlap with what was seen', () => {
    assert.deepEqual(newLines([], ['a', 'b']), ['a', 'b']);
    assert.deepEqual(newLines(['a', 'b'], ['a', 'b', 'c']), ['c']);
    assert.deepEqual(newLines(['a', 'b', 'c'], ['b', 'c', 'd', 'e']), ['d', 'e']);
    assert.deepEqual(newLines(['a', 'b'], ['a', 'b']), []);
    // Repeated lines: the longest overlap wins, so a new repeat still counts.
    assert.deepEqual(newLines(['x', 'x'], ['x', 'x', 'x']), ['x']);
  });
});

const ended: WorkloadStatus = {
  workloadId: 'hello-1',
  name: 'hello',
  project: 'demo',
  tenant: 'default',
  state: 'terminated',
  outcome: 'succeeded',
  instance: { connection: 'local', cloudId: 'i-1', sshHost: '127.0.0.1', sshPort: 4022, sshUser: 'root' },
  startedAt: '2026-12-03T10:00:00.000Z',
  asOf: '2026-12-03T10:01:05.000Z',
  elapsedMs: 65_000,
  costSoFar: { amount: 123456789, currency: 'USD', scale: 10 },
  costExact: '0.0123456789 USD',
  costBasis: [],
  budgets: [{ key: 'project:demo', reserved: { amount: 150, currency: 'USD', scale: 2 } }],
  attempts: [{ refId: 'r', connection: 'local', instanceTypeId: 'gpu_1x_l4', location: 'eu-central', spot: false, cloudId: 'i-1', outcome: 'created', createdAt: '2026-12-03T10:00:05.000Z' }],
  autoShutdown: 'off',
  gpuUtilization: [80],
  recoveries: 0,
  restarts: 0,
  watchdogRenewedAt: '2026-12-03T10:01:00.000Z',
  exitCode: 0,
};

describe('status rendering', () => {
  it('an ended workload: outcome, exact cost, attempt end; no holds, ssh, utilization or lease', () => {
    const out = formatStatus(ended, { now: Date.parse('2026-12-03T10:05:00Z') });
    assert.match(out, /state\s+terminated \(succeeded\)/);
    assert.match(out, /\ncost\s+0\.0123456789 USD\n/);
    assert.match(out, /attempts\s+local\/eu-central\/gpu_1x_l4 terminated, created \S+, ended with the workload/);
    for (const gone of [/budgets/, /ssh/, /gpu utilization/, /watchdog/]) assert.doesNotMatch(out, gone);
  });

  it('a running one: elapsed on the local clock, cost with its age, a working ssh command with the key', () => {
    const { outcome: _outcome, exitCode: _exitCode, ...live } = ended;
    const running: WorkloadStatus = { ...live, state: 'running' };
    const now = Date.parse('2026-12-03T10:01:35Z'); // 30 s after the query's clock (10:01:05)
    const out = formatStatus(running, { now, sshKey: '/k/id_ed25519' });
    assert.match(out, /elapsed\s+1m35s/);
    assert.match(out, /cost so far\s+0\.0123456789 USD \(as of 30\.0s ago\)/);
    assert.match(out, /ssh\s+gpuflow ssh hello-1\s+or: ssh -i \/k\/id_ed25519 -p 4022 .*root@127\.0\.0\.1/);
    assert.match(out, /gpu utilization\s+80%/);
  });

  it('quotes a key path with spaces', () => {
    assert.match(sshCommandLine({ host: 'h', port: 22, user: 'u' }, '/my keys/k'), /-i '\/my keys\/k'/);
  });

  it('relative times', () => {
    const now = Date.parse('2026-12-03T10:00:00Z');
    assert.equal(relativeTime('2026-12-03T09:57:00Z', now), '3 min ago');
    assert.equal(relativeTime('2026-12-03T09:59:58Z', now), 'just now');
    assert.equal(relativeTime('2026-12-03T07:00:00Z', now), '3 h ago');
  });
});

describe('GPU class names at the boundary (issue 18 item 5)', () => {
  it('knows the catalogs\' spellings and names the nearest for a typo', () => {
    for (const ok of ['H100', 'h100-sxm', 'A100-80GB', 'RTX 4090', 'A6000', 'H100.SXM5', 'RTX6000-Ada', 'RTX-PRO-6000', 'V100-32GB', '*', 'any']) assert.ok(isKnownGpuClass(ok), ok);
    assert.equal(unknownGpuClassMessage('H900'), 'H900: unknown GPU class; did you mean H200 or H100? (or "*" for any GPU)');
    assert.deepEqual(nearestGpuClasses('4090'), ['RTX4090']);
    assert.match(unknownGpuClassMessage('zzzzzzzz')!, /known classes: B200, GB200, H200, H100/);
  });

  it('a spec, and the embedding API, refuse it before anything starts', async () => {
    assert.throws(() => parseWorkloadSpec({ name: 'x', command: 'true', gpu: { classes: ['H900'] } }), (e: InvalidWorkloadSpecError) => e.issues.some((i) => i.path === 'gpu.classes.0' && /did you mean H200 or H100/.test(i.message)));
    // No Temporal calls happen: the client object would throw on any use.
    const gf = new GpuflowClient(new Proxy({}, { get: () => assert.fail('no Temporal call for a bad spec') }) as Client, 'q');
    await assert.rejects(gf.launch({ name: 'x', command: 'true', gpu: { classes: ['H900'] } }), InvalidWorkloadSpecError);
  });
});

describe('messages', () => {
  it('recipes render: durations as a spec writes them', () => {
    assert.deepEqual(withReadableDurations({ lifecycle: { maxDuration: 1_800_000 }, autoShutdown: { idleWindow: 300_000 }, gpu: { count: 1 } }), {
      lifecycle: { maxDuration: '30m' },
      autoShutdown: { idleWindow: '5m' },
      gpu: { count: 1 },
    });
  });

  it('schedule times in the schedule\'s zone', () => {
    assert.equal(zonedTime(new Date('2026-12-04T08:00:00Z'), 'Europe/Berlin'), '2026-12-04 09:00:00 Europe/Berlin');
  });

  it('required fields in words, not zod\'s', () => {
    assert.throws(() => parseWorkloadSpec({ command: 'true', gpu: { classes: ['L4'] } }), (e: Error) => /name: required: add name/.test(e.message) && !/Invalid input/.test(e.message));
  });

  it('the Web UI view of workloads alone', () => {
    assert.equal(workloadsViewUrl('http://127.0.0.1:8233', 'default'), "http://127.0.0.1:8233/namespaces/default/workflows?query=WorkflowType%20%3D%20'workloadWorkflow'");
  });
});

describe('detaching from run (Ctrl-C)', () => {
  it('ends the wait for the result with the follow, and a detach is not reported as a failure', async () => {
    const ac = new AbortController();
    let resultSignal: AbortSignal | undefined;
    const handle: WorkloadAccess = {
      workloadId: 'tick-1',
      status: async () => ({ ...ended, state: 'running' }) as WorkloadStatus,
      // As Temporal's long poll: pending until the workload ends, rejected when its signal aborts.
      result: (opts) =>
        new Promise((_resolve, reject) => {
          resultSignal = opts?.signal;
          opts?.signal?.addEventListener('abort', () => reject(new Error('operation cancelled')), { once: true });
        }),
      stop: async () => 'stopping',
      logs: async () => '',
    };
    const lines: string[] = [];
    setTimeout(() => ac.abort(), 50);
    const r = await followWorkload(handle, (l) => lines.push(l), { signal: ac.signal, intervalMs: 10 });
    assert.equal(r.detached, true);
    assert.equal(resultSignal, ac.signal, 'the wait for the result is given the detach signal');
    assert.equal(r.error, undefined);
    assert.ok(!lines.some((l) => /terminated/.test(l)), lines.join('\n'));
  });

  it("through a server, the result's long poll is cancelled at once", async () => {
    let closed = 0;
    const ac = new AbortController();
    let t0 = 0;
    const srv = createServer((_req, res) => {
      // A long poll that would answer in 20 s; the CLI detaches while it is pending.
      const t = setTimeout(() => res.end('{"state":"running"}'), 20_000);
      t0 = Date.now();
      ac.abort();
      res.once('close', () => {
        clearTimeout(t);
        closed++;
      });
    });
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    try {
      const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
      const result = new GpuflowServerClient(url, 'tok').handle('w-1').result({ signal: ac.signal });
      const late = new Promise((_r, reject) => setTimeout(() => reject(new Error('still waiting after 10 s')), 10_000).unref());
      await assert.rejects(Promise.race([result, late]), { name: 'AbortError' });
      assert.ok(Date.now() - t0 < 5_000, 'not after the long poll');
      // The request itself ends (not only the promise): nothing holds the CLI's process open.
      await waitUntil(() => closed === 1);
    } finally {
      srv.closeAllConnections();
      srv.close();
    }
  });
});

async function waitUntil(f: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !f(); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(f(), 'the server saw the request closed');
}
