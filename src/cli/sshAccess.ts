/** How a user reaches a workload's node with OpenSSH: the key the worker uses and a command that works. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { gpuflowHome } from '../config/paths.js';
import type { WorkloadStatus } from '../workflows/messages.js';

/** The worker's key: --ssh-key, else GPUFLOW_SSH_KEY, else the default of `gpuflow worker`/`gpuflow dev`. */
export function sshKeyPath(flag?: string): string {
  return flag ?? process.env.GPUFLOW_SSH_KEY ?? join(gpuflowHome(), 'dev', 'ssh', 'id_ed25519');
}

export interface SshTargetView {
  host: string;
  port: number;
  user: string;
}

/** The node's SSH address while it lives; undefined once the workload has ended or before it has one. */
export function liveSshTarget(st: WorkloadStatus): SshTargetView | undefined {
  if (st.state === 'terminated' || !st.instance?.sshHost || !st.instance.sshPort || !st.instance.sshUser) return undefined;
  return { host: st.instance.sshHost, port: st.instance.sshPort, user: st.instance.sshUser };
}

/** Instances are fresh: their host keys cannot be known in advance (as the worker's own SSH). */
const HOST_KEY_OPTIONS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR'];

export function sshArgs(t: SshTargetView, key: string, opts: { tty?: boolean; command?: string[]; options?: string[] } = {}): string[] {
  return ['-i', key, '-p', String(t.port), ...HOST_KEY_OPTIONS, ...(opts.options ?? []), ...(opts.tty ? ['-t'] : []), `${t.user}@${t.host}`, ...(opts.command ?? [])];
}

/** The command line to print: copy-pasteable, with the key (shell-quoted where needed). */
export function sshCommandLine(t: SshTargetView, key: string): string {
  return ['ssh', ...sshArgs(t, key)].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export function sshKeyHint(key: string): string | undefined {
  return existsSync(key) ? undefined : `no SSH key at ${key}: pass --ssh-key FILE or set GPUFLOW_SSH_KEY to the key the worker uses (gpuflow worker --ssh-key)`;
}
