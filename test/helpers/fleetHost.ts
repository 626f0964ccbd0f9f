/**
 * "Owned" GPU boxes for the SSH fleet tests: each is a real OpenSSH sshd on 127.0.0.1 with its own
 * host key, admin key (the fleet's identity file), home directory and the local cloud's nvidia-smi
 * shim on PATH reporting the box's GPUs. Nothing is forced on sessions: the adapter sees an
 * ordinary account, as on a team's own machine.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nvidiaSmiScript } from '../../src/providers/local/daemon/nvidia-smi.js';
import { terminateProcesses } from '../../src/providers/local/daemon/procs.js';
import { ensurePrivsepDir, freePort, sshUser } from '../../src/providers/local/daemon/sshd.js';
import { bytes } from '../../src/providers/sdk/bytes.js';
import { generateSshKeyPair, waitForSsh } from '../../src/ssh/sshClient.js';

export interface FleetHostGpu {
  /** What nvidia-smi calls it, e.g. "NVIDIA A100-SXM4-80GB". */
  productName: string;
  count: number;
  memoryGiB: number;
}

export interface FleetHost {
  name: string;
  host: string;
  port: number;
  user: string;
  /** The admin key (0600), as a connection's identityFile. */
  identityFile: string;
  privateKey: string;
  home: string;
  /** Per-GPU utilization the shim reports (one percent per line). */
  utilFile: string;
  /** Stops the box's sshd (a host that stops answering); `start()` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops everything the box ran: its sshd, the leases' sshds and their processes. */
  close(): Promise<void>;
}

export async function startFleetHost(dir: string, name: string, gpu: FleetHostGpu): Promise<FleetHost> {
  const root = join(dir, name);
  const home = join(root, 'home');
  const bin = join(root, 'bin');
  mkdirSync(join(home, '.ssh'), { recursive: true });
  mkdirSync(bin, { recursive: true });
  const hostKey = join(root, 'ssh_host_ed25519_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  const admin = generateSshKeyPair(`fleet-admin-${name}`);
  const identityFile = join(root, 'id_admin');
  writeFileSync(identityFile, admin.privateKey, { mode: 0o600 });
  writeFileSync(join(home, '.ssh', 'authorized_keys'), `${admin.publicKey}\n`, { mode: 0o600 });
  const utilFile = join(root, 'gpu-utilization');
  writeFileSync(utilFile, `${Array.from({ length: gpu.count }, () => '0').join('\n')}\n`);
  const [model] = gpu.productName.split(' ').slice(-1);
  writeFileSync(
    join(bin, 'nvidia-smi'),
    nvidiaSmiScript({
      instanceId: `fleet-${name}`,
      gpu: { count: gpu.count, memory: bytes(gpu.memoryGiB, 'GiB'), memoryDetails: '', networkDetails: '', manufacturer: 'NVIDIA', name: model ?? 'GPU', type: model ?? 'GPU', productName: gpu.productName },
      defaultUtilFile: utilFile,
    }),
    { mode: 0o755 },
  );
  const port = await freePort();
  const user = sshUser();
  const config = join(root, 'sshd_config');
  writeFileSync(
    config,
    `Port ${port}
ListenAddress 127.0.0.1
HostKey ${hostKey}
PidFile ${join(root, 'sshd.pid')}
AuthorizedKeysFile ${join(home, '.ssh', 'authorized_keys')}
AllowUsers ${user}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
MaxStartups 50:30:200
# The box's own account: its home and a PATH with its GPUs' nvidia-smi (one OS user plays every box).
SetEnv HOME=${home} PATH=${bin}:/usr/local/bin:/usr/bin:/bin GPUFLOW_TEST_FLEET_HOST=${name}
`,
  );
  const log = join(root, 'sshd.log');
  let child: ChildProcess | undefined;
  const start = async () => {
    ensurePrivsepDir();
    const fd = openSync(log, 'a');
    try {
      child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    await waitForSsh({ host: '127.0.0.1', port, username: user, privateKey: admin.privateKey }, { timeoutMs: 15_000, intervalMs: 100 });
  };
  const stop = async () => {
    if (child?.pid && child.exitCode === null && child.signalCode === null) await terminateProcesses([child.pid], 1000);
    child = undefined;
  };
  await start();
  return {
    name,
    host: '127.0.0.1',
    port,
    user,
    identityFile,
    privateKey: admin.privateKey,
    home,
    utilFile,
    stop,
    start,
    async close() {
      await stop();
      const leases = join(home, '.gpuflow-fleet', 'leases');
      const ids = await readdir(leases).catch(() => [] as string[]);
      // sshd overwrites its environment with its process title: the leases' sshds go by pid file.
      const pids = await processesWithEnv([`GPUFLOW_TEST_FLEET_HOST=${name}`, ...ids.map((id) => `GPUFLOW_LEASE=${id}`)]);
      for (const id of ids) {
        const pid = Number(await readFile(join(leases, id, 'sshd.pid'), 'utf8').catch(() => ''));
        if (pid > 1) pids.push(pid);
      }
      if (pids.length) await terminateProcesses(pids, 1000);
    },
  };
}

/** PIDs (not this one) whose environment holds one of `entries` ("NAME=value"). */
async function processesWithEnv(entries: string[]): Promise<number[]> {
  const wanted = new Set(entries);
  const out: number[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    const env = await readFile(`/proc/${e}/environ`, 'latin1').catch(() => '');
    if (env.split('\0').some((x) => wanted.has(x))) out.push(Number(e));
  }
  return out;
}
