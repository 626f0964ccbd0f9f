/**
 * bench:sync: a 200 MB workdir of 2,000 random files (random so gzip cannot shrink it away)
 * synced to a local-cloud instance, cold and after one file changed, side by side with
 * `rsync -a` over ssh to the same node as the floor; and the workflow history of the workload
 * that carried it, asserted small (the content goes through the store, not the history).
 *
 *   gpuflow cold      the workload's own sync activity (status.sync.ms), fresh node
 *   gpuflow one-change the same code (syncToNode over one SSH connection) after one file changed
 *   client pack       hashing the workdir into the content store (cold: every blob written; then
 *                     the re-pack after the change)
 *
 *   npm run bench:sync [-- --files 2000 --mib 200]
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SshSession } from '../src/ssh/sshClient.js';
import { syncToNode } from '../src/sync/nodeSync.js';
import { packSync } from '../src/sync/pack.js';
import { LocalDirStore } from '../src/sync/store.js';
import type { Digest } from '../src/sync/manifest.js';
import { startTestEnv, waitFor } from '../test/helpers/environment.js';
import { historyText } from '../test/helpers/historyText.js';

const { values } = parseArgs({ options: { files: { type: 'string', default: '2000' }, mib: { type: 'string', default: '200' } } });
const FILES = Number(values.files);
const BYTES = Number(values.mib) * 1024 * 1024;
/** The history of a workload that synced 200 MB must stay under this (it is a few tens of KB). */
const HISTORY_LIMIT_BYTES = 256 * 1024;

if (spawnSync('rsync', ['--version']).status !== 0) throw new Error('bench:sync needs rsync (apt-get install -y rsync) for its floor');

const env = await startTestEnv();
process.env.GPUFLOW_STORE = join(env.dir, 'store');
// The client in this process packs with the stat cache under GPUFLOW_HOME, as `gpuflow run` does.
process.env.GPUFLOW_HOME = env.childEnv.GPUFLOW_HOME;
const store = new LocalDirStore(process.env.GPUFLOW_STORE);
const work = join(env.dir, 'workdir');
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (b: number) => `${(b / 1024 ** 2).toFixed(1)} MiB`;

try {
  const per = Math.floor(BYTES / FILES);
  for (let i = 0; i < FILES; i++) {
    const dir = join(work, `d${i % 20}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}.bin`), randomBytes(per));
  }
  await env.startWorker();

  let t = Date.now();
  const wl = await env.client.launch({ name: 'bench-sync', command: 'sleep 600', workdir: work, gpu: { classes: ['L4'] } });
  const packColdMs = Date.now() - t;
  const st = await waitFor('the workdir synced', async () => {
    const x = await wl.status();
    return x.sync && x.instance?.sshHost ? x : undefined;
  }, 600_000, 500);
  const cold = st.sync!;
  assert.equal(cold.sentBytes, cold.bytes);
  const target = { host: st.instance!.sshHost!, port: st.instance!.sshPort!, username: st.instance!.sshUser!, privateKey: readFileSync(env.sshKeyFile, 'utf8') };

  // The floor: rsync -a over ssh to the same node, into another directory.
  const sshCmd = `ssh -i ${env.sshKeyFile} -p ${target.port} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR`;
  const rsync = () => {
    const t0 = Date.now();
    const r = spawnSync('rsync', ['-a', '--stats', '-e', sshCmd, `${work}/`, `${target.username}@${target.host}:rsync_workdir/`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`rsync failed: ${r.stderr}`);
    return { ms: Date.now() - t0, sent: Number(/Total bytes sent: ([\d,]+)/.exec(r.stdout)?.[1]?.replace(/,/g, '') ?? NaN) };
  };
  const rsyncCold = rsync();

  // One file changes.
  writeFileSync(join(work, 'd7', 'f7.bin'), randomBytes(per));
  t = Date.now();
  // As the client packs: with its stat cache (under GPUFLOW_HOME), so only the changed file is hashed.
  const repacked = await packSync({ workdir: work, statCache: join(env.childEnv.GPUFLOW_HOME!, 'cache', 'pack-hashes.json') }, store);
  const packChangeMs = Date.now() - t;
  const session = new SshSession(target);
  const one = await syncToNode((c, o) => session.exec(c, o), store, repacked.manifest as Digest);
  session.close();
  const rsyncOne = rsync();
  assert.equal(one.sentEntries, 1, 'only the changed file was sent');

  await wl.stop('bench done');
  await wl.result().catch(() => undefined);
  const history = await env.client.temporal.workflow.getHandle(wl.workloadId).fetchHistory();
  const historyBytes = Buffer.byteLength(historyText(history));
  const events = history.events?.length ?? 0;

  console.log(`workdir: ${FILES} files, ${mb(cold.bytes)} of random data`);
  console.log('');
  console.log('                      gpuflow                      rsync -a over ssh     ratio');
  console.log(`cold                  ${s(cold.ms).padEnd(10)} ${mb(cold.wireBytes).padEnd(17)} ${s(rsyncCold.ms).padEnd(10)} ${mb(rsyncCold.sent).padEnd(10)} ${(cold.ms / rsyncCold.ms).toFixed(2)}x`);
  console.log(`after one change      ${s(one.ms).padEnd(10)} ${mb(one.wireBytes).padEnd(17)} ${s(rsyncOne.ms).padEnd(10)} ${mb(rsyncOne.sent).padEnd(10)} ${(one.ms / rsyncOne.ms).toFixed(2)}x`);
  console.log('');
  console.log(`client pack: cold ${s(packColdMs)} (hash + store every blob), after the change ${s(packChangeMs)} (stat cache: one file hashed, one new blob)`);
  console.log(`workflow history: ${events} events, ${(historyBytes / 1024).toFixed(1)} KiB decoded (limit ${HISTORY_LIMIT_BYTES / 1024} KiB)`);
  assert.ok(historyBytes < HISTORY_LIMIT_BYTES, `history is ${historyBytes} bytes`);
} finally {
  await env.teardown();
}
