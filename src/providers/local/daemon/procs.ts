/**
 * Finding and killing an instance's processes through /proc (Linux). A process belongs to an
 * instance when its environment has `GPUFLOW_INSTANCE_ID=<id>` (the instance's login wrapper exports
 * it, so every command started over SSH inherits it), or when it descends from the instance's sshd.
 */
import { readdir, readFile } from 'node:fs/promises';

export const INSTANCE_ENV = 'GPUFLOW_INSTANCE_ID';

async function listPids(): Promise<number[]> {
  const entries = await readdir('/proc');
  return entries.filter((e) => /^\d+$/.test(e)).map(Number);
}

async function parentOf(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ..." where comm may contain spaces and parentheses.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[1]);
  } catch {
    return undefined;
  }
}

/** This process and its ancestors: never killed, even if they carry an instance's environment. */
async function selfAndAncestors(): Promise<Set<number>> {
  const out = new Set<number>([process.pid]);
  let pid: number | undefined = process.ppid;
  while (pid && pid > 1 && !out.has(pid)) {
    out.add(pid);
    pid = await parentOf(pid);
  }
  return out;
}

async function hasEnv(pid: number, needle: Buffer): Promise<boolean> {
  try {
    const env = await readFile(`/proc/${pid}/environ`);
    let start = 0;
    for (;;) {
      const end = env.indexOf(0, start);
      const entry = env.subarray(start, end === -1 ? env.length : end);
      if (entry.equals(needle)) return true;
      if (end === -1) return false;
      start = end + 1;
    }
  } catch {
    return false; // gone, or not ours to read
  }
}

/** PIDs whose environment says they run inside the instance, plus descendants of `rootPids`. */
export async function findInstanceProcesses(instanceId: string, rootPids: number[] = []): Promise<number[]> {
  const needle = Buffer.from(`${INSTANCE_ENV}=${instanceId}`);
  const pids = await listPids();
  const protectedPids = await selfAndAncestors();
  const parents = new Map<number, number>();
  const found = new Set<number>();
  await Promise.all(
    pids.map(async (pid) => {
      const ppid = await parentOf(pid);
      if (ppid !== undefined) parents.set(pid, ppid);
      if (await hasEnv(pid, needle)) found.add(pid);
    }),
  );
  if (rootPids.length > 0) {
    const roots = new Set(rootPids);
    for (const pid of parents.keys()) {
      let p: number | undefined = pid;
      for (let depth = 0; p !== undefined && p > 1 && depth < 64; depth++) {
        if (roots.has(p)) {
          found.add(pid);
          break;
        }
        p = parents.get(p);
      }
    }
  }
  for (const p of protectedPids) found.delete(p);
  return [...found].sort((a, b) => a - b);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isZombieOrGone(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, wait up to `graceMs`, then SIGKILL whatever is left. Resolves when all are gone. */
export async function terminateProcesses(pids: number[], graceMs: number): Promise<void> {
  if (pids.length === 0) return;
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let alive = pids;
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(25);
    alive = (await Promise.all(alive.map(async (p) => ((await isZombieOrGone(p)) ? undefined : p)))).filter(
      (p): p is number => p !== undefined,
    );
  }
  for (const pid of alive) signal(pid, 'SIGKILL');
  const killDeadline = Date.now() + 2000;
  while (alive.length > 0 && Date.now() < killDeadline) {
    await sleep(10);
    alive = (await Promise.all(alive.map(async (p) => ((await isZombieOrGone(p)) ? undefined : p)))).filter(
      (p): p is number => p !== undefined,
    );
  }
}

/**
 * Kills everything of the instance: `rootPids` (its sshd) with their descendants and every process
 * with the instance's environment. Rescans until nothing is left, since processes may fork while
 * dying. Returns how many processes were signalled.
 */
export async function killInstanceProcesses(instanceId: string, rootPids: number[], graceMs: number): Promise<number> {
  let total = 0;
  let roots = rootPids.filter(isAlive);
  for (let round = 0; round < 5; round++) {
    const pids = [...new Set([...roots, ...(await findInstanceProcesses(instanceId, roots))])];
    if (pids.length === 0) break;
    total += pids.length;
    await terminateProcesses(pids, round === 0 ? graceMs : 0);
    roots = [];
  }
  return total;
}

export async function readCmdline(pid: number): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
  } catch {
    return undefined;
  }
}
