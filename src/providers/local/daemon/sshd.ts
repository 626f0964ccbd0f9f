/**
 * An instance's machine: a directory with a home, a bin/ (fake nvidia-smi first on PATH), its own
 * host key and authorized key, and a real OpenSSH sshd on 127.0.0.1 whose ForceCommand wrapper puts
 * every session in the instance (HOME, PATH, GPUFLOW_INSTANCE_ID, GPUFLOW_GPU_UTIL_FILE,
 * GPUFLOW_SELF_TERMINATE).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, statSync } from 'node:fs';
import { chmod, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import type { ResolvedGpu } from './catalog.js';
import { SELF_TERMINATE_COMMAND, selfTerminateScript } from './metadata.js';
import { shellQuote } from '../../../ssh/shellQuote.js';
import { nvidiaSmiScript } from './nvidia-smi.js';
import { INSTANCE_ENV, isAlive, readCmdline, terminateProcesses } from './procs.js';

const execFileAsync = promisify(execFile);

export interface SshdTools {
  sshdPath: string;
  sshKeygenPath: string;
}

export const DEFAULT_SSHD_TOOLS: SshdTools = { sshdPath: '/usr/sbin/sshd', sshKeygenPath: 'ssh-keygen' };

export interface InstancePaths {
  dir: string;
  home: string;
  bin: string;
  hostKey: string;
  authorizedKeys: string;
  sshdConfig: string;
  pidFile: string;
  log: string;
  entry: string;
  gpuUtilFile: string;
  /** The instance's metadata token (self-terminate), readable by the instance only. */
  metadataToken: string;
}

export function instancePaths(dataDir: string, id: string): InstancePaths {
  const dir = path.join(path.resolve(dataDir), 'instances', id);
  return {
    dir,
    home: path.join(dir, 'home'),
    bin: path.join(dir, 'bin'),
    hostKey: path.join(dir, 'ssh_host_ed25519_key'),
    authorizedKeys: path.join(dir, 'authorized_keys'),
    sshdConfig: path.join(dir, 'sshd_config'),
    pidFile: path.join(dir, 'sshd.pid'),
    log: path.join(dir, 'sshd.log'),
    entry: path.join(dir, 'entry.sh'),
    gpuUtilFile: path.join(dir, 'gpu-utilization'),
    metadataToken: path.join(dir, 'metadata-token'),
  };
}

export function sshUser(): string {
  return os.userInfo().username;
}

/** sshd run as root needs its privilege-separation directory. */
export function ensurePrivsepDir(): void {
  if (process.getuid?.() === 0 && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
}

export interface PrepareArgs {
  dataDir: string;
  id: string;
  publicKey: string;
  gpu: ResolvedGpu | undefined;
  env: Record<string, string>;
  tools: SshdTools;
  /** The instance's metadata token and where the daemon's endpoint is written (see metadata.ts). */
  metadata?: { token: string; endpointFile: string };
}

/** Creates the instance's directory, keys and scripts. The sshd_config is written at each start. */
export async function prepareInstanceDir(a: PrepareArgs): Promise<InstancePaths> {
  const p = instancePaths(a.dataDir, a.id);
  await mkdir(p.home, { recursive: true });
  await mkdir(p.bin, { recursive: true });
  if (!existsSync(p.hostKey)) {
    await execFileAsync(a.tools.sshKeygenPath, ['-q', '-t', 'ed25519', '-N', '', '-C', `gpuflow-local-${a.id}`, '-f', p.hostKey]);
  }
  await writeFile(p.authorizedKeys, `${a.publicKey.trim()}\n`, { mode: 0o600 });
  const nvsmi = path.join(p.bin, 'nvidia-smi');
  await writeFile(nvsmi, nvidiaSmiScript({ instanceId: a.id, gpu: a.gpu, defaultUtilFile: p.gpuUtilFile }), { mode: 0o755 });
  await chmod(nvsmi, 0o755);
  const gpuCount = a.gpu?.count ?? 0;
  if (!existsSync(p.gpuUtilFile)) await writeFile(p.gpuUtilFile, `${Array.from({ length: gpuCount }, () => '0').join('\n')}\n`);

  const selfTerminate = a.metadata ? await writeSelfTerminate(p, a.id, a.metadata) : undefined;
  // A create env that sets GPUFLOW_SELF_TERMINATE (even empty) wins: it models an image without one.
  const selfTerminateExport = selfTerminate
    ? `if [ -z "\${GPUFLOW_SELF_TERMINATE+set}" ]; then export GPUFLOW_SELF_TERMINATE=${shellQuote(selfTerminate)}; fi\n`
    : '';

  const exports = Object.entries(a.env)
    .map(([k, v]) => `export ${k}=${shellQuote(v)}`)
    .join('\n');
  const pathValue = `${p.bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
  await writeFile(
    p.entry,
    `#!/bin/bash
# Login wrapper (sshd ForceCommand) of gpuflow local cloud instance ${a.id}.
${exports}
export HOME=${shellQuote(p.home)}
export PATH=${shellQuote(pathValue)}
export ${INSTANCE_ENV}=${shellQuote(a.id)}
export GPUFLOW_GPU_UTIL_FILE=${shellQuote(p.gpuUtilFile)}
${selfTerminateExport}cd "$HOME" || exit 1
if [ -n "\${SSH_ORIGINAL_COMMAND:-}" ]; then
  exec bash -c "$SSH_ORIGINAL_COMMAND"
fi
exec bash -l
`,
    { mode: 0o755 },
  );
  await chmod(p.entry, 0o755);
  // A login shell reads /etc/profile, which resets PATH: put the instance's bin/ back in front.
  const profile = path.join(p.home, '.bash_profile');
  if (!existsSync(profile)) {
    await writeFile(profile, `export PATH=${shellQuote(p.bin)}:"$PATH"\n[ -f ~/.bashrc ] && . ~/.bashrc\n`);
  }
  return p;
}

async function writeSelfTerminate(p: InstancePaths, id: string, m: { token: string; endpointFile: string }): Promise<string> {
  await writeFile(p.metadataToken, `${m.token}\n`, { mode: 0o600 });
  await chmod(p.metadataToken, 0o600);
  const cmd = path.join(p.bin, SELF_TERMINATE_COMMAND);
  await writeFile(cmd, selfTerminateScript({ instanceId: id, endpointFile: m.endpointFile, tokenFile: p.metadataToken }), { mode: 0o755 });
  await chmod(cmd, 0o755);
  return cmd;
}

export async function writeGpuUtilization(p: InstancePaths, values: number[]): Promise<void> {
  const tmp = `${p.gpuUtilFile}.tmp-${process.pid}`;
  await writeFile(tmp, `${values.map((v) => String(Math.trunc(v))).join('\n')}\n`);
  await rename(tmp, p.gpuUtilFile);
}

export async function removeInstanceDir(dataDir: string, id: string): Promise<void> {
  await rm(instancePaths(dataDir, id).dir, { recursive: true, force: true });
}

function sshdConfig(p: InstancePaths, port: number, user: string): string {
  return `# sshd of a gpuflow local cloud instance (generated at each start)
Port ${port}
ListenAddress 127.0.0.1
AddressFamily inet
HostKey ${p.hostKey}
PidFile ${p.pidFile}
AuthorizedKeysFile ${p.authorizedKeys}
AllowUsers ${user}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PermitUserEnvironment no
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding yes
ClientAliveInterval 15
ClientAliveCountMax 4
MaxStartups 50:30:200
LogLevel INFO
Subsystem sftp /usr/lib/openssh/sftp-server
# The login shell sshd starts reads $HOME/.bashrc: pointing HOME at the instance keeps the host
# user's rc files (pyenv, conda...) out of every instance command.
SetEnv HOME=${p.home}
ForceCommand ${p.entry}
`;
}

/** A port that was free a moment ago on 127.0.0.1 (`preferred` if it still is). */
export async function freePort(preferred?: number): Promise<number> {
  const tryListen = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(undefined));
      srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
        const addr = srv.address();
        const got = typeof addr === 'object' && addr ? addr.port : undefined;
        srv.close(() => resolve(got));
      });
    });
  if (preferred) {
    const p = await tryListen(preferred);
    if (p) return p;
  }
  const p = await tryListen(0);
  if (!p) throw new Error('no free TCP port on 127.0.0.1');
  return p;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(500, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** Whether sshd's log, from byte `from`, says it listens on `port` (`sshd -D -e` logs to stderr). */
async function saidListening(log: string, from: number, port: number): Promise<boolean> {
  let fh;
  try {
    fh = await open(log, 'r');
    const { size } = await fh.stat();
    if (size <= from) return false;
    const buf = Buffer.alloc(Math.min(size - from, 64 * 1024));
    await fh.read(buf, 0, buf.length, from);
    return buf.toString('utf8').includes(`Server listening on 127.0.0.1 port ${port}.`);
  } catch {
    return false;
  } finally {
    await fh?.close();
  }
}

export interface RunningSshd {
  child: ChildProcess;
  pid: number;
  port: number;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  /** Set when the daemon itself stops it (not a crash). */
  stopping: boolean;
}

/**
 * Starts the instance's sshd on a free port (trying `preferredPort` first) and waits until it
 * accepts TCP connections.
 */
export async function startSshd(
  p: InstancePaths,
  opts: { preferredPort?: number | undefined; tools: SshdTools; logger: Logger; onUnexpectedExit?: (code: number | null, signal: string | null) => void },
): Promise<RunningSshd> {
  ensurePrivsepDir();
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 4; attempt++) {
    const port = await freePort(attempt === 0 ? opts.preferredPort : undefined);
    await writeFile(p.sshdConfig, sshdConfig(p, port, sshUser()));
    // Only what this sshd writes counts as its "listening" line (the log is appended across starts).
    const logStart = statSync(p.log, { throwIfNoEntry: false })?.size ?? 0;
    const logFd = openSync(p.log, 'a');
    let child: ChildProcess;
    try {
      child = spawn(opts.tools.sshdPath, ['-D', '-e', '-f', p.sshdConfig], { stdio: ['ignore', logFd, logFd], detached: false });
    } finally {
      closeSync(logFd);
    }
    const running: RunningSshd = {
      child,
      pid: child.pid ?? -1,
      port,
      stopping: false,
      exited: new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve();
        else child.once('exit', () => resolve());
      }),
    };
    let exitedEarly = false;
    let readyOnce = false;
    let spawnError: Error | undefined;
    child.once('error', (e) => {
      spawnError = e;
      exitedEarly = true;
    });
    child.once('exit', (code, signal) => {
      exitedEarly = true;
      if (!running.stopping && readyOnce) opts.onUnexpectedExit?.(code, signal);
    });
    // A connect alone is not proof: freePort's port may be taken again before sshd binds it (by a
    // concurrent start given the same port, in this daemon or another), and a connect would then
    // reach that other listener while this sshd exits. Ready means this sshd said it listens.
    const deadline = Date.now() + 10_000;
    while (!exitedEarly && Date.now() < deadline) {
      if ((await saidListening(p.log, logStart, port)) && !exitedEarly && (await canConnect(port))) {
        readyOnce = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 30));
    }
    if (readyOnce && !exitedEarly) {
      opts.logger.debug({ sshdPid: running.pid, port, dir: p.dir }, 'sshd listening');
      return running;
    }
    running.stopping = true;
    if (!exitedEarly && running.pid > 0) await terminateProcesses([running.pid], 500);
    const tail = await readFile(p.log, 'utf8').then((s) => s.split('\n').slice(-6).join('\n').trim(), () => '');
    lastError = spawnError ?? new Error(`sshd did not start on port ${port}: ${tail || 'no output'}`);
    opts.logger.warn({ err: lastError.message, port, attempt }, 'sshd failed to start; retrying on another port');
  }
  throw lastError ?? new Error('sshd did not start');
}

export async function stopSshd(s: RunningSshd, graceMs: number): Promise<void> {
  s.stopping = true;
  if (s.pid > 0) await terminateProcesses([s.pid], graceMs);
  await Promise.race([s.exited, new Promise((r) => setTimeout(r, 1000))]);
}

/**
 * Kills an sshd left from an earlier daemon run (the daemon was killed without closing): the pid in
 * the instance's PidFile, if it is still an sshd using this instance's config.
 */
export async function killStaleSshd(p: InstancePaths, logger: Logger): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(p.pidFile, 'utf8')).trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1 || !isAlive(pid)) return;
  const cmd = await readCmdline(pid);
  if (cmd && cmd.includes(p.sshdConfig)) {
    logger.info({ sshdPid: pid, dir: p.dir }, 'killing sshd left by an earlier run');
    await terminateProcesses([pid], 1000);
  }
}
