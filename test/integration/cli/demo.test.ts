/**
 * `gpuflow demo examples/hello-gpu.yaml --exit` as the README runs it (issue 19 item 9): the real
 * embedded default (Temporal dev server with its Web UI, local cloud, worker) in a home of its
 * own, the example from pending to terminated, then everything stopped: no Web UI link is printed
 * for a UI that is gone, and the UI's port is closed when the command returns.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGpuflow } from '../../helpers/cli.js';

const root = join(import.meta.dirname, '..', '..', '..');
const home = mkdtempSync(join(tmpdir(), 'gpuflow-demo-'));

async function isFree(port: number): Promise<boolean> {
  const srv = createServer();
  return new Promise((r) => {
    srv.once('error', () => r(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => r(true)));
  });
}

/** A gRPC port whose Web UI port (port + 1000) is free too. */
async function demoPort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await isFree(p)) && (await isFree(p + 1000))) return p;
  }
  throw new Error('no free port pair');
}

function listening(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), r(true)));
    s.once('error', () => r(false));
  });
}

after(() => rmSync(home, { recursive: true, force: true }));

describe('gpuflow demo --exit', () => {
  it('runs examples/hello-gpu.yaml to the end, stops everything and prints no Web UI link', async () => {
    const port = await demoPort();
    const env: NodeJS.ProcessEnv = { ...process.env, GPUFLOW_HOME: home };
    delete env.TEMPORAL_ADDRESS;
    delete env.TEMPORAL_NAMESPACE;
    delete env.GPUFLOW_TASK_QUEUE;
    const r = await runGpuflow(env, ['demo', join(root, 'examples', 'hello-gpu.yaml'), '--exit', '--port', String(port)], 600_000);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /workload hello-gpu-\S+\n/);
    assert.match(r.stdout, /terminated: succeeded/);
    assert.match(r.stdout, /\| training step 5\n/, "the job's output is shown");
    assert.match(r.stdout, new RegExp(`stopped Temporal \\(and its Web UI\\), the local cloud and the worker; the history is kept in ${join(home, 'dev').replace(/[.]/g, '\\.')}\n$`));
    // No link to a UI that has shut down: neither its address nor a "Web UI" pointer.
    assert.doesNotMatch(r.stdout, new RegExp(`:${port + 1000}\\b`));
    assert.doesNotMatch(r.stdout, /open it in the Temporal Web UI|https?:\/\//);
    assert.equal(await listening(port + 1000), false, 'the Web UI is down when demo --exit returns');
    assert.equal(await listening(port), false, 'the Temporal server is down too');
  });
});
