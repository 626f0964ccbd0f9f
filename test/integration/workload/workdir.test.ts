/**
 * Your code on the node, end to end on the local cloud: a workdir (with a .gitignore) and a
 * `files` entry are packed into the content store by the client, synced to a real sshd instance
 * by the worker, and the job reads them from its working directory; `setup` runs once, before the
 * first run, and a rerun (maxRestartsOnError) skips it. A failing setup fails the workload with
 * its exit code in status. The history holds the digest, never the content.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { startTestEnv, type TestEnv } from '../../helpers/environment.js';
import { historyText } from '../../helpers/historyText.js';

let env: TestEnv;
const marker = `content-${randomBytes(12).toString('hex')}`;

before(async () => {
  env = await startTestEnv();
  // Client and the in-process worker read the same store.
  process.env.GPUFLOW_STORE = join(env.dir, 'store');
  await env.startWorker();
});

after(async () => {
  delete process.env.GPUFLOW_STORE;
  await env?.teardown();
});

it('syncs workdir and files, runs setup once, and a rerun on the same instance skips setup', { timeout: 120_000 }, async () => {
  const work = join(env.dir, 'project');
  mkdirSync(join(work, 'data'), { recursive: true });
  writeFileSync(join(work, 'data', 'input.txt'), `${marker}\n`);
  writeFileSync(join(work, 'check.sh'), '#!/usr/bin/env bash\ngrep -q content- data/input.txt\n', { mode: 0o755 });
  writeFileSync(join(work, '.gitignore'), 'ignored.bin\n');
  writeFileSync(join(work, 'ignored.bin'), randomBytes(1024));
  const config = join(env.dir, 'config.json');
  writeFileSync(config, '{"lr":0.1}\n');

  const command = [
    'set -e',
    '[ "$PWD" = "$GPUFLOW_WORKDIR" ] || { echo "wrong cwd $PWD" >&2; exit 3; }',
    './check.sh || exit 4',
    '[ ! -e ignored.bin ] || exit 5',
    'grep -q \'"lr":0.1\' ~/inputs/config.json || exit 6',
    '[ "$(wc -l < ~/setup-runs)" -eq 1 ] || exit 7',
    'grep -q "setup in $GPUFLOW_WORKDIR" ~/setup-runs || exit 8',
    'n=$(cat ~/job-runs 2>/dev/null || echo 0); echo $((n + 1)) > ~/job-runs',
    '[ "$n" -ge 1 ] || exit 75',
    'echo job-ok',
  ].join('\n');
  const wl = await env.client.launch({
    name: 'workdir-e2e',
    command,
    setup: 'echo "setup in $PWD" >> ~/setup-runs',
    workdir: work,
    files: { '~/inputs/config.json': config },
    gpu: { classes: ['L4'] },
    recovery: { maxRestartsOnError: 1, restartExitCodes: [75] },
  });
  const r = await wl.result();
  assert.equal(r.outcome, 'succeeded', JSON.stringify(r));
  assert.equal(r.exitCode, 0);
  assert.equal(r.restarts, 1, 'the first run exited 75 and was rerun');
  const st = await wl.status();
  assert.equal(st.setup?.state, 'succeeded');
  assert.equal(st.setup?.exitCode, 0);
  assert.match(st.setup?.log ?? '', /^~\/\.gpuflow\/jobs\/workdir-e2e-[0-9a-f]+\/setup\/log$/);
  // check.sh, data/input.txt, .gitignore and config.json; ignored.bin stays home.
  assert.equal(st.sync?.files, 4);
  assert.equal(st.sync?.sentBytes, st.sync?.bytes);
  assert.ok(st.sync && st.sync.sentEntries >= 5, `dirs and files sent: ${JSON.stringify(st.sync)}`);

  const history = historyText(await env.client.temporal.workflow.getHandle(wl.workloadId).fetchHistory());
  assert.ok(history.includes(st.sync!.manifest), 'the history carries the manifest digest');
  assert.ok(!history.includes(marker), 'file content never enters the history');
});

it('a failing setup fails the workload with its exit code, and the job never runs', { timeout: 90_000 }, async () => {
  const work = join(env.dir, 'project2');
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'x.txt'), 'x');
  const wl = await env.client.launch({ name: 'setup-fails', command: 'touch ~/job-ran', setup: 'echo installing; exit 9', workdir: work, gpu: { classes: ['L4'] } });
  await assert.rejects(wl.result(), (e: Error & { cause?: Error }) => /setup exited with code 9/.test(e.cause?.message ?? ''));
  const st = await wl.status();
  assert.equal(st.setup?.state, 'failed');
  assert.equal(st.setup?.exitCode, 9);
  assert.equal(st.exitCode, undefined, 'the job did not run');
  assert.equal(st.outcome, 'failed');
  assert.ok(st.instance?.terminatedAt, 'the instance was terminated');
});
