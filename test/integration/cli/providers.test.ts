/**
 * `gpuflow providers add|list|test|remove` as a user runs them (real CLI processes) against a real
 * local cloud daemon and the Lambda API replica, then a `gpuflow worker` process that loads those
 * store-backed connections and runs a workload end to end; the secrets must appear nowhere in the
 * worker's log output, the workflow history or the connections file.
 *
 *   node --import tsx --test test/integration/cli/providers.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import proto from '@temporalio/proto';
import { nodeEntryArgs } from '../../../src/cli/nodeEntry.js';
import { resolveStoreKey } from '../../../src/config/credentials/key.js';
import { CredentialStore } from '../../../src/config/credentials/store.js';
import { runGpuflow, type CliResult } from '../../helpers/cli.js';
import { killHard, startTestEnv, waitFor, type TestEnv } from '../../helpers/environment.js';
import { startLambdaReplica, type LambdaReplicaHandle } from '../../replicas/lambda/server.js';

let env: TestEnv;
let replica: LambdaReplicaHandle;
let home: string;
let cliEnv: NodeJS.ProcessEnv;
let localToken: string;
const lambdaKey = `secret_${randomBytes(16).toString('hex')}`;
const secrets = () => [lambdaKey, localToken];

function gpuflow(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runGpuflow({ ...cliEnv, ...extraEnv }, args, 120_000);
}

/** The CLI with `input` on stdin (runGpuflow has no stdin). */
function gpuflowWithStdin(args: string[], input: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeEntryArgs('cli/main'), ...args], { env: cliEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

const storeFile = () => join(home, 'credentials.enc');
const keyFile = () => join(home, 'credentials.key');
const openStore = () => CredentialStore.open(resolveStoreKey({ create: false, keyFile: keyFile(), env: {} }), storeFile());

before(async () => {
  env = await startTestEnv();
  localToken = readFileSync(join(env.dir, 'token'), 'utf8').trim();
  replica = await startLambdaReplica({ localCloud: { url: env.cloud.url, token: localToken }, apiKey: lambdaKey, backing: { type: 'gpu_1x_l4', location: 'us-east' } });
  home = env.childEnv.GPUFLOW_HOME!;
  // GPUFLOW_CONNECTIONS: providers, run (defaultGpu) and the worker all read the environment's file.
  cliEnv = { ...env.childEnv, GPUFLOW_CONNECTIONS: env.connectionsFile, GPUFLOW_CREDENTIALS_KEY: '' };
});

after(async () => {
  await replica?.close();
  await env?.teardown();
});

describe('gpuflow providers', () => {
  it('refuses a bad key after a real call, and stores nothing', async () => {
    const before = readFileSync(env.connectionsFile, 'utf8');
    const r = await gpuflow(['providers', 'add', 'lambda', '--name', 'lambda-us', '--api-key-env', 'WRONG_KEY', '--base-url', replica.url], { WRONG_KEY: 'secret_wrong' });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /lambda connection "lambda-us" was not added, nothing was stored: the validation call failed: .*API key was invalid/);
    assert.ok(replica.admin.requests().some((q) => q.path === '/api/v1/instance-types' && q.status === 401), 'a real call reached the replica');
    assert.equal(readFileSync(env.connectionsFile, 'utf8'), before);
    assert.equal(existsSync(storeFile()), false, 'no store written');
    assert.equal(existsSync(keyFile()), false, 'no key created for nothing');
  });

  it('never takes a key as a flag value, and names the fix for bad input', async () => {
    const flag = await gpuflow(['providers', 'add', 'lambda', '--name', 'x', '--api-key', lambdaKey]);
    assert.equal(flag.code, 1);
    assert.match(flag.stderr, /there is no --api-key: .*use --api-key-stdin/);
    assert.ok(!flag.stderr.includes(lambdaKey), 'the key is not echoed back');
    const none = await gpuflow(['providers', 'add', 'lambda', '--name', 'x', '--base-url', replica.url]);
    assert.match(none.stderr, /exactly one of --api-key-stdin .* or --api-key-env VAR/);
    const bad = await gpuflow(['providers', 'add', 'lambda', '--name', 'X y', '--api-key-env', 'K', '--spending-cap', '10/year', '--region-prefer', 'eu west'], { K: lambdaKey });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--name \(name\): connection names are lower-case letters/);
    assert.match(bad.stderr, /--spending-cap \(spendingCap\.period\): spendingCap\.period must be day, week or month/);
    assert.match(bad.stderr, /--region-prefer \(regionPreferences\.0\)/);
    const empty = await gpuflowWithStdin(['providers', 'add', 'lambda', '--name', 'x', '--api-key-stdin', '--base-url', replica.url], '\n');
    assert.match(empty.stderr, /--api-key-stdin: stdin was empty; pipe the key in/);
    const kind = await gpuflow(['providers', 'add', 'lamda', '--name', 'x']);
    assert.match(kind.stderr, /"lamda" is not a provider kind \(known: local, lambda, shadeform/);
    assert.equal(existsSync(storeFile()), false);
  });

  it('adds connections validated by a real call, the key encrypted at rest', async () => {
    const r = await gpuflowWithStdin(['providers', 'add', 'lambda', '--name', 'lambda-us', '--api-key-stdin', '--base-url', replica.url, '--spending-cap', '100/day', '--region-prefer', 'us-west-*,us-*'], `${lambdaKey}\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /added lambda connection lambda-us: \d+ instance types \(\d+ available\) in \d+ locations; GPUs: .*A100.* \(\d+ ms\)/);
    assert.match(r.stderr, new RegExp(`created the credentials key ${keyFile()} \\(mode 0600\\): back it up`));
    assert.equal(statSync(keyFile()).mode & 0o777, 0o600);
    assert.equal(statSync(storeFile()).mode & 0o777, 0o600);

    const local = await gpuflow(['providers', 'add', 'local', '--name', 'local-store', '--base-url', env.cloud.url, '--api-key-env', 'LOCAL_TOKEN', '--region-prefer', 'eu-*', '--default-gpu', 'L4:1', '--spending-cap', '50.00 USD/week', '--json'], { LOCAL_TOKEN: localToken });
    assert.equal(local.code, 0, local.stderr);
    assert.equal(local.stderr, '', 'the key exists now: no notice');
    const added = JSON.parse(local.stdout) as { credential: string; probe: { instanceTypes: number; gpuModels: string[] } };
    assert.equal(added.credential, 'store:local-store');
    assert.deepEqual(added.probe.gpuModels, ['H100', 'L4']);

    const dup = await gpuflow(['providers', 'add', 'local', '--name', 'local-store', '--base-url', env.cloud.url, '--api-key-env', 'LOCAL_TOKEN'], { LOCAL_TOKEN: localToken });
    assert.match(dup.stderr, /--name: a connection named "local-store" already exists/);

    assert.deepEqual(openStore().refs().map((x) => x.ref), ['lambda-us', 'local-store']);
    assert.equal(openStore().get('lambda-us').reveal(), lambdaKey);
    for (const s of secrets()) {
      assert.ok(!readFileSync(storeFile(), 'utf8').includes(s), 'no plaintext in the store');
      assert.ok(!readFileSync(env.connectionsFile, 'utf8').includes(s), 'no secret in connections.yaml');
    }
  });

  it('lists connections with their settings and credential source, never a secret', async () => {
    const table = await gpuflow(['providers', 'list']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^NAME\s+KIND\s+CREDENTIAL\s+SPENDING CAP\s+REGION PREFERENCES\s+DEFAULT GPU\s+ENDPOINT/);
    assert.match(table.stdout, /\nlocal\s+local\s+file:\S+token\s+-\s+-\s+-/);
    assert.match(table.stdout, /\nlambda-us\s+lambda\s+store:lambda-us\s+100 USD\/day\s+us-west-\*,us-\*\s+-\s+http:\/\/127\.0\.0\.1:\d+/);
    assert.match(table.stdout, /\nlocal-store\s+local\s+store:local-store\s+50\.00 USD\/week\s+eu-\*\s+L4:1/);
    const json = await gpuflow(['providers', 'list', '--json']);
    const rows = JSON.parse(json.stdout) as { name: string; credential: string; spendingCap?: { amount: string; period: string }; defaultGpu?: string }[];
    assert.deepEqual(rows.map((x) => [x.name, x.credential]), [['local', `file:${join(env.dir, 'token')}`], ['lambda-us', 'store:lambda-us'], ['local-store', 'store:local-store']]);
    assert.deepEqual(rows[1]!.spendingCap, { amount: '100', currency: 'USD', period: 'day' });
    for (const s of secrets()) assert.ok(!table.stdout.includes(s) && !json.stdout.includes(s));
  });

  it('tests a connection with a real call: latency and what it found', async () => {
    const before = replica.admin.requests().length;
    const r = await gpuflow(['providers', 'test', 'lambda-us']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ok: lambda-us \(lambda, credential store:lambda-us\) answered: \d+ instance types .* in \d+ locations; GPUs: .* \(\d+ ms\)/);
    assert.ok(replica.admin.requests().slice(before).some((q) => q.path === '/api/v1/instance-types' && q.status === 200 && q.auth === 'bearer'));
    const json = JSON.parse((await gpuflow(['providers', 'test', 'local-store', '--json'])).stdout) as { ok: boolean; probe: { latencyMs: number; locations: number } };
    assert.equal(json.ok, true);
    assert.equal(json.probe.locations, 3);
    const unknown = await gpuflow(['providers', 'test', 'nope']);
    assert.match(unknown.stderr, /no connection "nope" in .* \(known: local, lambda-us, local-store\)/);
    const wrongKey = await gpuflow(['providers', 'test', 'lambda-us'], { GPUFLOW_CREDENTIALS_KEY: randomBytes(32).toString('base64') });
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stderr, /was encrypted with a different key/);
  });

  it('runs a workload end to end through a store-backed connection, with no secret in logs, history or files', async () => {
    const worker: ChildProcess = await env.spawnWorker({ captureOutput: true, env: { GPUFLOW_CONNECTIONS: env.connectionsFile, GPUFLOW_CREDENTIALS_KEY: '', GPUFLOW_LOG_LEVEL: 'debug' } });
    let logs = '';
    worker.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
    worker.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
    try {
      // No GPU named: local-store's defaultGpu (L4:1) applies; its region preference (eu-*) beats
      // us-east's provider priority at the same 0.80/h.
      const spec = join(env.dir, 'no-gpu.yaml');
      writeFileSync(spec, 'name: store-backed\ncommand: echo hello from the store\nplacement: { providers: { allow: [local-store] } }\n');
      const run = await gpuflow(['run', spec]);
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}\n${logs}`);
      assert.match(run.stderr, /no GPU named: using L4:1, the default GPU of local-store/);
      const workloadId = /^workload (\S+)/m.exec(run.stdout)![1]!;
      const result = await env.client.handle(workloadId).result();
      assert.equal(result.outcome, 'succeeded');
      assert.equal(result.offer?.connection, 'local-store');
      assert.equal(result.offer?.type, 'gpu_1x_l4');
      assert.equal(result.offer?.location, 'eu-central', 'the preferred region won the tie on price');
      assert.ok(replica.admin.requests().some((q) => q.path === '/api/v1/instance-types' && q.status === 200), 'the worker resolved lambda-us from the store and read its catalog');

      const history = await env.client.temporal.workflow.getHandle(workloadId).fetchHistory();
      const historyBytes = Buffer.from(proto.temporal.api.history.v1.History.encode(history).finish());
      await waitFor('worker log output', async () => logs.length > 0, 10_000);
      for (const s of secrets()) {
        assert.ok(!historyBytes.includes(Buffer.from(s)), 'secret in the workflow history');
        assert.ok(!logs.includes(s), 'secret in the worker logs');
        assert.ok(!readFileSync(env.connectionsFile, 'utf8').includes(s), 'secret in connections.yaml');
        assert.ok(!run.stdout.includes(s) && !run.stderr.includes(s));
      }
      assert.ok(historyBytes.includes(Buffer.from('local-store')), 'the history names the connection (the reference), so the search above is over real payloads');
    } finally {
      await killHard(worker);
    }
  });

  it('removes a connection and deletes its secret', async () => {
    const r = await gpuflow(['providers', 'remove', 'lambda-us']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /removed connection lambda-us from .*\ndeleted its secret "lambda-us" from .*credentials\.enc/);
    assert.deepEqual(openStore().refs().map((x) => x.ref), ['local-store']);
    const list = JSON.parse((await gpuflow(['providers', 'list', '--json'])).stdout) as { name: string }[];
    assert.deepEqual(list.map((x) => x.name), ['local', 'local-store']);
    const again = await gpuflow(['providers', 'remove', 'lambda-us']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no connection "lambda-us"/);
    const file = await gpuflow(['providers', 'remove', 'local', '--json']);
    assert.deepEqual(JSON.parse(file.stdout), { name: 'local', removed: true, secretDeleted: false });
  });
});
