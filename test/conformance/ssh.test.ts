/**
 * The conformance suite against the SSH fleet adapter and two "owned" boxes (real OpenSSH sshds on
 * 127.0.0.1 with the local cloud's nvidia-smi shim): 4x A100 80GB and 2x L4. The instance it
 * creates is a GPU lease with its own sshd on the box.
 *
 *   node --import tsx --test test/conformance/ssh.test.ts
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { SshFleetCredential } from '../../src/providers/ssh/index.js';
import { sshExec } from '../../src/ssh/sshClient.js';
import { startFleetHost, type FleetHost } from '../helpers/fleetHost.js';
import { runConformanceSuite } from './suite.js';

let dir: string;
let hosts: FleetHost[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gpuflow-conformance-ssh-'));
  hosts = [
    await startFleetHost(dir, 'box-a100', { productName: 'NVIDIA A100-SXM4-80GB', count: 4, memoryGiB: 80 }),
    await startFleetHost(dir, 'box-l4', { productName: 'NVIDIA L4', count: 2, memoryGiB: 24 }),
  ];
});

after(async () => {
  for (const h of hosts) await h.close();
  rmSync(dir, { recursive: true, force: true });
});

runConformanceSuite({
  name: 'ssh',
  credential: () =>
    new SshFleetCredential({
      refId: 'conformance-ssh',
      hosts: hosts.map((h) => ({ name: h.name, host: h.host, port: h.port, user: h.user, identityFile: h.identityFile, listenAddress: '127.0.0.1', leasePorts: '23100-23199' })),
      region: 'lab',
      country: 'DEU',
      pricePerGpuHour: '0.50',
      gpuPrices: { A100: '1.10' },
      instancePollMs: 300,
    }),
  stableIds: ['lab-noSub-1x_a100_80gb_sxm4', 'lab-noSub-4x_a100_80gb_sxm4', 'lab-noSub-2x_l4_24gb'],
  sshTimeoutMs: 30_000,
  // The lease: its sshd answers with the workload's key only, in its own home, with its GPUs only.
  afterCreate: async (instance) => {
    assert.equal(instance.notPrivileged, true);
    const box = hosts.find((h) => h.name === instance.hostname)!;
    assert.ok(box, `the lease names its host (${instance.hostname})`);
    assert.notEqual(instance.sshPort, box.port, 'the lease has its own sshd, not the box account');
    const r = await sshExec({ host: box.host, port: instance.sshPort, username: box.user, privateKey: box.privateKey }, 'true', { timeoutMs: 20_000 }).then(
      () => 'accepted',
      (e: Error) => e.message,
    );
    assert.match(r, /authentication/i, 'the box admin key does not open the lease');
  },
});
