/**
 * The SSH fleet adapter's leases against real boxes (OpenSSH sshds with the nvidia-smi shim):
 * concurrent claims never share a GPU, a repeated create is the same lease, a claim that died
 * half-way holds nothing, a dead lease sshd is revived, a host that stops answering makes its
 * leases failed (host failure), and terminate kills the lease's processes.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CloudClient } from '../../../src/providers/sdk/client.js';
import { InstanceNotFoundError, InsufficientCapacityError, ServiceUnavailableError } from '../../../src/providers/sdk/errors.js';
import { SshFleetCredential } from '../../../src/providers/ssh/index.js';
import { generateSshKeyPair, sshExec } from '../../../src/ssh/sshClient.js';
import { writeConnections } from '../../../src/cli/devEnvironment.js';
import { ConnectionSchema } from '../../../src/config/connections.js';
import { runGpuflow } from '../../helpers/cli.js';
import { waitFor } from '../../helpers/environment.js';
import { startFleetHost, type FleetHost } from '../../helpers/fleetHost.js';

const key = generateSshKeyPair('workload');
let dir: string;
let box: FleetHost;
let client: CloudClient;

const create = (refId: string, instanceType = '1x_l4_24gb') => client.createInstance({ refId, location: 'lab', instanceType, publicKey: key.publicKey, name: refId });
const onLease = (port: number, command: string) => sshExec({ host: box.host, port, username: box.user, privateKey: key.privateKey }, command, { timeoutMs: 30_000 });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gpuflow-ssh-leases-'));
  box = await startFleetHost(dir, 'box', { productName: 'NVIDIA L4', count: 2, memoryGiB: 24 });
  const cred = new SshFleetCredential({
    refId: 'leases',
    hosts: [{ name: box.name, host: box.host, port: box.port, user: box.user, identityFile: box.identityFile, listenAddress: '127.0.0.1', leasePorts: '23300-23399' }],
    region: 'lab',
    country: 'DEU',
    pricePerGpuHour: '0.30',
    hostLostAfterMs: 1_000,
  });
  client = await cred.makeClient('');
});

after(async () => {
  await box?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('ssh fleet leases', { timeout: 240_000 }, () => {
  it('concurrent claims get disjoint GPUs; the box full is a capacity error; a repeated create is the same lease', async () => {
    // A claim that died half-way (its temporary directory) holds nothing.
    mkdirSync(join(box.home, '.gpuflow-fleet', 'leases', '.tmp-deadbeefdeadbeefdead'), { recursive: true });
    writeFileSync(join(box.home, '.gpuflow-fleet', 'leases', '.tmp-deadbeefdeadbeefdead', 'gpus'), '0,1');
    const results = await Promise.allSettled([create('a'), create('b'), create('c')]);
    const made = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    assert.equal(made.length, 2, `two of three claims on a 2-GPU box win: ${refused.map((e) => e.message).join('; ')}`);
    assert.equal(refused.length, 1);
    assert.ok(refused[0] instanceof InsufficientCapacityError, `${refused[0]!.name}: ${refused[0]!.message}`);
    const seen = await Promise.all(made.map(async (i) => (await onLease(i.sshPort, 'echo $CUDA_VISIBLE_DEVICES')).stdout.trim()));
    assert.deepEqual(seen.sort(), ['0', '1']);
    const again = await create(made[0]!.refId);
    assert.equal(again.cloudId, made[0]!.cloudId);
    assert.equal(again.sshPort, made[0]!.sshPort);
    assert.equal((await client.listInstances({})).length, 2);
    await assert.rejects(create('d', '2x_l4_24gb'), InsufficientCapacityError);
    for (const i of made) await client.terminateInstance(i.cloudId);
  });

  it('revives a lease whose sshd died, reports a host that stops answering as a host failure, and recovers when it answers', async () => {
    const i = await create('e');
    const pidFile = join(box.home, '.gpuflow-fleet', 'leases', i.cloudId.split('@')[0]!, 'sshd.pid');
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    await waitFor('the lease sshd gone', async () => {
      try {
        await onLease(i.sshPort, 'true');
        return false;
      } catch {
        return true;
      }
    }, 15_000);
    try {
      assert.equal((await client.getInstance(i.cloudId)).status.lifecycleStatus, 'running', 'getInstance restarts it');
      // The restarted sshd may take a moment to listen on a loaded machine (the workload's
      // bootstrap waits for SSH the same way).
      const back = await waitFor('the revived lease answers', async () => (await onLease(i.sshPort, 'echo back').catch(() => undefined))?.stdout.trim(), 20_000);
      assert.equal(back, 'back');

      await box.stop();
      await assert.rejects(client.getInstance(i.cloudId), ServiceUnavailableError, 'a blip is not a loss');
      await new Promise((r) => setTimeout(r, 1_200));
      const lost = await client.getInstance(i.cloudId);
      assert.equal(lost.status.lifecycleStatus, 'failed');
      assert.equal(lost.status.interruption, 'host-failure');
      assert.equal((await client.getInstanceTypes({})).filter((t) => t.isAvailable).length, 0, 'its offers stay listed, unavailable');
      await box.start();
      assert.equal((await client.getInstance(i.cloudId)).status.lifecycleStatus, 'running');
    } finally {
      // Also when an assertion failed (the box may be down then): the next test counts the box's leases.
      await client.terminateInstance(i.cloudId).catch(async () => {
        await box.start();
        await client.terminateInstance(i.cloudId);
      });
    }
  });

  it('terminate kills the lease’s processes, deletes its files, and is idempotent', async () => {
    const i = await create('f');
    await onLease(i.sshPort, 'nohup sleep 600 >/dev/null 2>&1 & echo $! > ~/pid; echo data > ~/file');
    const leaseDir = join(box.home, '.gpuflow-fleet', 'leases', i.cloudId.split('@')[0]!);
    const pid = Number(readFileSync(join(leaseDir, 'home', 'pid'), 'utf8'));
    process.kill(pid, 0);
    await client.terminateInstance(i.cloudId);
    // Gone, or a zombie nobody reaps (this container's PID 1 does not): either way, not running.
    const stat = (() => {
      try {
        return readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        return '';
      }
    })();
    assert.ok(stat === '' || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z'), `the job’s background process is gone: ${stat.slice(0, 60)}`);
    assert.throws(() => readFileSync(join(leaseDir, 'home', 'file')), /ENOENT/, 'the lease’s files are gone');
    await assert.rejects(onLease(i.sshPort, 'true'));
    await client.terminateInstance(i.cloudId);
    await assert.rejects(client.getInstance(i.cloudId), InstanceNotFoundError);
    assert.deepEqual(await client.listInstances({}), []);
  });

  it('`gpuflow providers test` reads the fleet from connections.yaml; `providers add ssh` says to write it there', async () => {
    const file = join(dir, 'connections.yaml');
    writeConnections(file, [
      ConnectionSchema.parse({ kind: 'ssh', name: 'lab', hosts: [{ name: box.name, host: box.host, port: box.port, user: box.user, identityFile: box.identityFile }], country: 'DEU', pricePerGpuHour: '0.30' }),
    ]);
    const env = { ...process.env, GPUFLOW_HOME: join(dir, 'home') };
    const ok = await runGpuflow(env, ['providers', 'test', 'lab', '--connections', file]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /ok: lab \(ssh, credential none\) answered: 2 instance types \(2 available\) in 1 locations; GPUs: L4/);
    const add = await runGpuflow(env, ['providers', 'add', 'ssh', '--name', 'lab2', '--connections', file]);
    assert.equal(add.code, 1);
    assert.match(add.stderr, /ssh connections are not added with flags: list its hosts \(host, user, identityFile\)/);
  });
});
