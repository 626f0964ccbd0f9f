/**
 * The job's output as a stream of new lines, from the node's log file (what `gpuflow logs` tails):
 * - with the worker's SSH key at hand (`gpuflow dev`, or --ssh-key / GPUFLOW_SSH_KEY), OpenSSH
 *   runs `tail -F` on the node: lines arrive as written, up to the job's last line before exit,
 *   and nothing enters the workload's history;
 * - otherwise through the workflow's `logs` update, as `gpuflow logs` does. Each read is an update
 *   in the history, so reads back off while the job is quiet (2 s, up to 10 s), and lines written
 *   in the last moment before exit may be missed (the instance is terminated at once).
 * The lasting log store of the code-on-the-node issue will replace both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { jobDir } from '../activities/node.js';
import type { WorkloadAccess } from './workloadBackend.js';
import { sshArgs, type SshTargetView } from './sshAccess.js';

/** Lines of `tail` not yet seen: the longest suffix of `seen` that starts `tail` is dropped. */
export function newLines(seen: readonly string[], tail: readonly string[]): string[] {
  for (let k = Math.min(seen.length, tail.length); k > 0; k--) {
    let match = true;
    for (let i = 0; i < k; i++) {
      if (seen[seen.length - k + i] !== tail[i]) {
        match = false;
        break;
      }
    }
    if (match) return tail.slice(k);
  }
  return [...tail];
}

const TAIL_LINES = 200;
/** The job output kept for the failure summary and for de-duplicating reads. */
const KEEP_LINES = 1_000;

export class JobOutput {
  private readonly seen: string[] = [];
  private nextReadAt = 0;
  private quietMs = 2_000;
  private tail?: { host: string; child: ChildProcess; closed: Promise<void> };

  constructor(
    private readonly handle: WorkloadAccess,
    private readonly print: (line: string) => void,
    private readonly sshKey?: string,
  ) {}

  /** Whether output streams over SSH (the key is readable here) rather than through the worker. */
  get streams(): boolean {
    return !!this.sshKey && existsSync(this.sshKey);
  }

  /** Follows the node's log over SSH from its first line; a new instance (recovery) gets a new tail. */
  follow(target: SshTargetView): void {
    const at = `${target.user}@${target.host}:${target.port}`;
    if (!this.streams || this.tail?.host === at) return;
    this.tail?.child.kill();
    const log = `${jobDir(this.handle.workloadId)}/log`;
    const options = ['-o', 'BatchMode=yes', '-o', 'ServerAliveInterval=5'];
    const child = spawn('ssh', sshArgs(target, this.sshKey!, { options, command: [`tail -n +1 -F "${log}" 2>/dev/null`] }), {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (l) => this.record([l]));
    const closed = new Promise<void>((resolve) => {
      child.once('close', () => resolve());
      child.once('error', () => resolve());
    });
    this.tail = { host: at, child, closed };
  }

  /** Ends the SSH tail, after up to `graceMs` for what is still in flight. */
  async close(graceMs = 1_000): Promise<void> {
    const t = this.tail;
    if (!t) return;
    await Promise.race([t.closed, new Promise((r) => setTimeout(r, graceMs))]);
    t.child.kill();
    await t.closed;
  }

  private record(fresh: string[]): void {
    for (const l of fresh) this.print(l);
    this.seen.push(...fresh);
    if (this.seen.length > KEEP_LINES) this.seen.splice(0, this.seen.length - KEEP_LINES);
  }

  /** Through the worker: reads what the job wrote since the last read, if due (or `force`), and prints each new line. */
  async poll(force = false): Promise<void> {
    if (this.streams || (!force && Date.now() < this.nextReadAt)) return;
    let text: string;
    try {
      text = await this.handle.logs(TAIL_LINES);
    } catch {
      return; // no instance yet, or it has gone: nothing to read
    }
    // The last line may still be written: wait for its newline, unless the job is done (force).
    const lines = text.split('\n');
    const partial = lines.pop() ?? '';
    if (force && partial) lines.push(partial);
    const fresh = newLines(this.seen, lines);
    this.record(fresh);
    this.quietMs = fresh.length ? 2_000 : Math.min(this.quietMs * 1.5, 10_000);
    this.nextReadAt = Date.now() + this.quietMs;
  }

  /** The last `n` lines of output seen. */
  last(n: number): string[] {
    return this.seen.slice(-n);
  }
}
