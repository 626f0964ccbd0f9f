/** The workload workflow on a real Temporal dev server and the local cloud's real sshd instances. */
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { InvalidWorkloadSpecError } from '../../../src/workload/spec.js';
import { toDecimalString } from '../../../src/money/money.js';
import { historyText } from '../../helpers/historyText.js';
import { startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';

let env: TestEnv;

before(async () => {
  env = await startTestEnv();
  await env.startWorker();
});
after(async () => {
  await env?.teardown();
});

async function liveInstances() {
  const client = await new (await import('../../../src/providers/local/index.js')).LocalCredential({ refId: 'probe', url: env.cloud.url, token: env.cloud.token }).makeClient('');
  return (await client.listInstances({})).filter((i) => i.status.lifecycleStatus !== 'terminated');
}

describe('workloadWorkflow', () => {
  it('runs a job through its whole life and terminates the instance, with its cost', async () => {
    const wl = await env.client.launch({ name: 'hello', command: 'echo "hello from $GPUFLOW_TASK_ID"; nvidia-smi -L; sleep 1', gpu: { classes: ['L4'] } });
    const result = await wl.result();
    assert.equal(result.outcome, 'succeeded');
    assert.equal(result.exitCode, 0);
    assert.equal(result.offer?.type, 'gpu_1x_l4');
    assert.equal(result.offer?.location, 'us-east', 'the cheapest L4 (0.80/h in us-east) is chosen');
    assert.ok(result.billedMs >= 1000, `billed ${result.billedMs} ms covers at least the 1 s job`);
    assert.ok(Number(toDecimalString(result.cost)) > 0, 'cost is accrued');
    const st = await wl.status();
    assert.equal(st.state, 'terminated');
    assert.equal(st.outcome, 'succeeded');
    assert.deepEqual(await liveInstances(), [], 'no instance is left running');
    const listed = await waitFor('visibility to show the workload terminated', async () =>
      (await env.client.list({ state: 'terminated' })).find((w) => w.workloadId === wl.workloadId),
    );
    assert.equal(listed.project, 'default');
  });

  it('keeps secrets out of workflow history while the job still gets them', async () => {
    process.env.GPUFLOW_TEST_SECRET = 's3cr3t-value-xyz';
    const wl = await env.client.launch({
      name: 'secret',
      // The job checks the secret by its digest: the command itself is in the history.
      command: `test "$(printf %s "$HF_TOKEN" | sha256sum | cut -d' ' -f1)" = ${createHash('sha256').update('s3cr3t-value-xyz').digest('hex')} && echo token-ok`,
      gpu: { classes: ['L4'] },
      secretEnv: { HF_TOKEN: 'env:GPUFLOW_TEST_SECRET' },
    });
    const r = await wl.result();
    assert.equal(r.exitCode, 0, 'the job saw the secret');
    const history = historyText(await env.client.temporal.workflow.getHandle(wl.workloadId).fetchHistory());
    assert.ok(history.includes('GPUFLOW_TEST_SECRET'), 'payloads are decoded (the reference is there)');
    assert.ok(!history.includes('s3cr3t-value-xyz'), 'the secret value is not in the history');
    assert.ok(!/BEGIN OPENSSH PRIVATE KEY/.test(history), 'no private key in the history');
  });

  it('fails over to the next offer when the first choice is out of capacity', async () => {
    await env.admin.setFaults({ outOfCapacity: [{ type: 'gpu_1x_l4', location: 'us-east' }] });
    try {
      const wl = await env.client.launch({ name: 'failover', command: 'true', gpu: { classes: ['L4'] } });
      const r = await wl.result();
      assert.equal(r.outcome, 'succeeded');
      assert.equal(r.attempts.length, 2);
      assert.equal(r.attempts[0]!.location, 'us-east');
      assert.equal(r.attempts[0]!.outcome, 'failed-over');
      assert.match(r.attempts[0]!.reason ?? '', /InsufficientCapacityError/);
      assert.equal(r.offer?.location, 'eu-central', 'the next cheapest L4 is used');
    } finally {
      await env.admin.clearFaults();
    }
  });

  it('never makes a second instance when create responses are lost', async () => {
    const before = await env.admin.stats();
    await env.admin.setFaults({ loseCreateResponses: 2 });
    try {
      const wl = await env.client.launch({ name: 'lost-response', command: 'true', gpu: { classes: ['L4'] } });
      const r = await wl.result();
      assert.equal(r.outcome, 'succeeded');
      const after = await env.admin.stats();
      assert.equal(after.createsAccepted - before.createsAccepted, 1, 'retried creates returned the instance the first one made');
      assert.equal(after.byRefId[r.attempts[0]!.refId], 1);
    } finally {
      await env.admin.clearFaults();
    }
  });

  it('terminates the instance when the workload is cancelled mid-job', async () => {
    const wl = await env.client.launch({ name: 'cancel', command: 'sleep 300', gpu: { classes: ['L4'] } });
    await waitFor('job running', async () => (await wl.status()).state === 'running', 60_000);
    const cloudId = (await wl.status()).instance!.cloudId;
    await wl.cancel();
    await assert.rejects(wl.result(), (e: Error) => e instanceof WorkflowFailedError);
    const st = await wl.status();
    assert.equal(st.state, 'terminated');
    assert.equal(st.outcome, 'cancelled');
    const live = await liveInstances();
    assert.ok(!live.some((i) => i.cloudId === cloudId), 'the cancelled workload’s instance is terminated');
  });

  it('stops gracefully on the stop update', async () => {
    const wl = await env.client.launch({ name: 'stop', command: 'trap "echo got-sigterm; exit 0" TERM; while true; do sleep 0.2; done', gpu: { classes: ['L4'] } });
    await waitFor('job running', async () => (await wl.status()).state === 'running', 60_000);
    assert.equal(await wl.stop('test'), 'stopping');
    const r = await wl.result();
    assert.equal(r.outcome, 'stopped');
    assert.deepEqual(await liveInstances(), []);
  });

  it('shuts an idle instance down after the idle window', async () => {
    const wl = await env.client.launch({
      name: 'idle',
      command: 'sleep 600',
      gpu: { classes: ['L4'] },
      autoShutdown: { utilizationBelowPercent: 10, idleWindow: '3s', sampleInterval: '1s' },
    });
    const started = Date.now();
    const r = await wl.result();
    assert.equal(r.outcome, 'idle-shutdown');
    assert.ok(Date.now() - started < 60_000);
    assert.deepEqual(await liveInstances(), []);
  });

  it('does not shut a busy instance down, and serves status and logs while running', async () => {
    const wl = await env.client.launch({
      name: 'busy',
      command: 'echo 95 > "$GPUFLOW_GPU_UTIL_FILE"; for i in 1 2 3 4 5 6; do echo tick $i; sleep 1; done',
      gpu: { classes: ['L4'] },
      autoShutdown: { utilizationBelowPercent: 10, idleWindow: '2s', sampleInterval: '1s' },
    });
    await waitFor('job running', async () => (await wl.status()).state === 'running', 60_000);
    const logs = await waitFor('log output', async () => {
      const l = await wl.logs(10);
      return l.includes('tick 2') ? l : undefined;
    }, 20_000, 500);
    assert.match(logs, /tick 1/);
    const st = await wl.status();
    assert.equal(st.offer?.type, 'gpu_1x_l4');
    assert.ok(st.instance?.sshPort, 'connection details are exposed');
    const r = await wl.result();
    assert.equal(r.outcome, 'succeeded', 'a busy GPU is never shut down');
  });

  it('reports a failing job as failed and still terminates', async () => {
    const wl = await env.client.launch({ name: 'fails', command: 'exit 3', gpu: { classes: ['L4'] } });
    await assert.rejects(wl.result(), (e: Error) => /job exited with code 3/.test((e as { cause?: Error }).cause?.message ?? ''));
    const st = await wl.status();
    assert.equal(st.exitCode, 3);
    assert.equal(st.state, 'terminated');
    assert.deepEqual(await liveInstances(), []);
  });

  it('fails clearly when no offer matches, without creating anything', async () => {
    const before = (await env.admin.stats()).createRequests;
    const wl = await env.client.launch({ name: 'nomatch', command: 'true', gpu: { classes: ['H100'] }, placement: { countries: ['FI'] } });
    await assert.rejects(wl.result(), (e: Error) => /no offer satisfies the spec/.test((e as { cause?: Error }).cause?.message ?? ''));
    assert.equal((await env.admin.stats()).createRequests, before);
  });

  it('rejects invalid specs before starting any workflow', async () => {
    await assert.rejects(
      env.client.launch({ name: 'Bad Name', command: 'true', gpu: { classes: ['L4'], count: 0 }, spot: 'sometimes' }),
      (e: Error) => {
        assert.ok(e instanceof InvalidWorkloadSpecError);
        assert.match(e.message, /name: name must be/);
        assert.match(e.message, /gpu\.count/);
        assert.match(e.message, /spot/);
        return true;
      },
    );
    const listed = await env.client.list({});
    assert.ok(!listed.some((w) => w.workloadId.startsWith('Bad')));
  });
});

describe('replay', () => {
  it('replays a finished workload from JSON history exported by `temporal workflow show`', async () => {
    const { execFileSync } = await import('node:child_process');
    const { Worker } = await import('@temporalio/worker');
    const { historyFromJSON } = await import('@temporalio/common/lib/proto-utils.js');
    const { resolveTemporalCli } = await import('../../../src/temporal/resolveCli.js');
    const { workflowsPath } = await import('../../../src/worker/worker.js');
    const wl = await env.client.launch({ name: 'replayable', command: 'echo replay-me', gpu: { classes: ['L4'] } });
    await wl.result();
    const json = execFileSync(
      resolveTemporalCli()!,
      ['workflow', 'show', '--workflow-id', wl.workloadId, '--address', env.server.address, '--namespace', env.server.namespace, '--output', 'json'],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    const history = historyFromJSON(JSON.parse(json));
    assert.ok((history.events?.length ?? 0) > 10);
    await Worker.runReplayHistory({ workflowsPath: workflowsPath() }, history, wl.workloadId);
  });
});
