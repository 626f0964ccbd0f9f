/**
 * Runs the host script on one host (`bash -s -- <command> <args>`, the script on stdin) and maps
 * failures to the contract's errors with a table, as the HTTP adapters map statuses. The private
 * key is only handed to ssh2; log lines name the host and the command, never an argument.
 */
import type { Logger } from 'pino';
import { AuthenticationError, CloudError, InsufficientCapacityError, InvalidRequestError, ServiceUnavailableError } from '../sdk/errors.js';
import { sshExec, SshConnectError, type SshTarget } from '../../ssh/sshClient.js';
import { EXIT_NO_FREE_GPUS, EXIT_NO_FREE_PORT, HOST_SCRIPT } from './hostScript.js';

export type HostCommand = 'state' | 'claim' | 'revive' | 'release';

/** A failed call: how it failed, for the table. */
export interface HostFailure {
  /** The SSH connection itself failed (unreachable, refused, timed out, key refused). */
  connect?: string;
  /** The script exited with this code. */
  exit?: number | null;
  stderr?: string;
}

type Outcome = 'auth' | 'capacity' | 'unavailable' | 'invalid';

/** First match wins; no match is `invalid` (a host that cannot run leases: a fix on the host, not a retry). */
export const SSH_FLEET_ERRORS: { match: (f: HostFailure) => boolean; then: Outcome }[] = [
  { match: (f) => f.connect !== undefined && /authentication|publickey/i.test(f.connect), then: 'auth' },
  { match: (f) => f.connect !== undefined, then: 'unavailable' },
  { match: (f) => f.exit === EXIT_NO_FREE_GPUS || f.exit === EXIT_NO_FREE_PORT, then: 'capacity' },
  // "lock busy" (another claim holds the host for a minute) and a dropped session.
  { match: (f) => /lock busy/.test(f.stderr ?? '') || f.exit === null, then: 'unavailable' },
];

export function hostError(host: string, command: HostCommand, f: HostFailure): CloudError {
  const what = f.connect ?? `${command} exited ${f.exit === null ? '(no status)' : f.exit}: ${(f.stderr ?? '').trim().slice(0, 300)}`;
  const message = `ssh fleet host ${host}: ${what}`;
  switch (SSH_FLEET_ERRORS.find((r) => r.match(f))?.then ?? 'invalid') {
    case 'auth':
      return new AuthenticationError(`${message} (check the host's user and identityFile)`);
    case 'capacity':
      return new InsufficientCapacityError(message, { scope: 'zone' });
    case 'unavailable':
      return new ServiceUnavailableError(message);
    default:
      return new InvalidRequestError(message);
  }
}

export async function runHostScript(
  target: SshTarget & { name: string },
  command: HostCommand,
  args: string[],
  opts: { logger?: Logger | undefined; timeoutMs?: number },
): Promise<string> {
  const started = Date.now();
  // Arguments are hex IDs, numbers, addresses or base64: nothing the remote shell would expand.
  const line = ['bash', '-s', '--', command, ...args].join(' ');
  let r;
  try {
    r = await sshExec(target, line, { stdin: HOST_SCRIPT, timeoutMs: opts.timeoutMs ?? 60_000 });
  } catch (e) {
    const message = e instanceof SshConnectError ? e.message : (e as Error).message;
    opts.logger?.debug({ host: target.name, command, ms: Date.now() - started, err: message }, 'ssh api request');
    throw hostError(target.name, command, { connect: message });
  }
  opts.logger?.debug({ host: target.name, command, exit: r.code, ms: Date.now() - started }, 'ssh api request');
  if (r.code !== 0) throw hostError(target.name, command, { exit: r.code, stderr: r.stderr });
  return r.stdout;
}
