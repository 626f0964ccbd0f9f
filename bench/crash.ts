/**
 * bench:crash: kill -9 of the worker at every stage of a workload's life, a new worker started at
 * once, and the time from the kill to the workload's next step on the new worker, per stage.
 *
 * Real dev server, the local cloud, the compiled worker (npm run build) as a child process killed
 * with SIGKILL. "Progress" is the first thing the new worker does for the workload, as the server
 * records it: an activity attempt started on it (a lost attempt retried, or a new step) or a
 * workflow task it completed. Beside it, in the same run, the floor: the new worker's own start-up
 * (kill → its first poll on the task queue). Every workload must still succeed with exactly one
 * instance, its job started exactly once, and no instance left running.
 *
 * The bound (src/workload/activityOptions.ts): RECOVERY_BOUND_MS (30 s) at every stage.
 *
 *   npm run bench:crash [-- --runs 3] [-- --stages running,terminating]
 */
import { readFileSync, existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import { killHard, startTestEnv, waitFor, type TestEnv } from '../test/helpers/environment.js';
import { TEST_CATALOG } from '../test/helpers/testCatalog.js';
import { HEARTBEAT_TIMEOUT_MS, RECOVERY_BOUND_MS } from '../src/workload/activityOptions.js';
import type { WorkloadState } from '../src/workflows/messages.js';

const STAGES = ['selecting', 'provisioning', 'waiting-for-instance', 'bootstrapping', 'running', 'terminating'] as const;
type Stage = (typeof STAGES)[number];

const { values } = parseArgs({ options: { runs: { type: 'string', default: '1' }, stages: { type: 'string', default: STAGES.join(',') } } });
const RUNS = Number(values.runs);
const stages = values.stages.split(',').map((s) => s.trim()) as Stage[];
for (const s of stages) if (!STAGES.includes(s)) throw new Error(`--stages: unknown stage ${s} (known: ${STAGES.join(', ')})`);

/** The activity in flight when the worker is killed at each stage (none: the workflow is waiting on a timer). */
const IN_FLIGHT: Record<Stage, string | undefined> = {
  selecting: 'planCandidates',
  provisioning: 'createInstance',
  'waiting-for-instance': undefined,
  bootstrapping: 'bootstrapInstance',
  running: 'runJob',
  terminating: 'terminateInstance',
};
/** Provider latency that keeps the stage's call in flight long enough to be killed in it. */
const LATENCY_MS: Partial<Record<Stage, number>> = { selecting: 4_000, provisioning: 3_000, bootstrapping: 3_000, terminating: 4_000 };

// A slow boot, so "waiting for instance" lasts long enough to kill the worker in it.
const catalog = { ...TEST_CATALOG, bootDelayMs: 8_000 };

interface Row {
  stage: Stage;
  run: number;
  progressMs: number;
  workerUpMs: number;
  how: string;
}

const STARTED = 2; // PENDING_ACTIVITY_STATE_STARTED
const tsMs = (t: { seconds?: unknown; nanos?: number | null } | null | undefined): number =>
  t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;

async function progressAfter(env: TestEnv, workloadId: string, identity: string, killedAt: number): Promise<{ at: number; how: string }> {
  const handle = env.client.temporal.workflow.getHandle(workloadId);
  return waitFor(
    'the new worker to move the workload on',
    async () => {
      const d = await handle.describe();
      for (const p of d.raw.pendingActivities ?? []) {
        if (p.state === STARTED && p.lastWorkerIdentity === identity && tsMs(p.lastStartedTime) >= killedAt) {
          return { at: tsMs(p.lastStartedTime), how: `${p.activityType?.name} attempt ${p.attempt} started` };
        }
      }
      const events = (await handle.fetchHistory()).events ?? [];
      for (const e of events) {
        const at = tsMs(e.eventTime);
        if (at < killedAt) continue;
        if (e.workflowTaskCompletedEventAttributes?.identity === identity) return { at, how: 'workflow task completed' };
        if (e.activityTaskStartedEventAttributes?.identity === identity) return { at, how: 'activity started' };
      }
      return undefined;
    },
    RECOVERY_BOUND_MS * 6,
    100,
  );
}

async function workerUp(env: TestEnv, identity: string, since: number): Promise<number> {
  return waitFor(
    'the new worker to poll',
    async () => {
      const r = await env.client.temporal.workflowService.describeTaskQueue({
        namespace: env.temporal.namespace,
        taskQueue: { name: env.temporal.taskQueue },
        taskQueueType: 2, // activity: a worker polls it as soon as it runs
      });
      const p = r.pollers?.find((x) => x.identity === identity);
      return p ? Math.max(0, tsMs(p.lastAccessTime) - since) || Date.now() - since : undefined;
    },
    RECOVERY_BOUND_MS * 6,
    100,
  );
}

const MODES = ['restart', 'standby'] as const;
type Mode = (typeof MODES)[number];

const env = await startTestEnv({ catalog });
const rows: (Row & { mode: Mode })[] = [];
/** Live worker children by their Temporal identity (pid@host, the SDK's default). */
const workers = new Map<string, ChildProcess>();
const identityOf = (c: ChildProcess) => `${c.pid}@${hostname()}`;
async function spawn(): Promise<string> {
  const c = await env.spawnWorker({ fromDist: true });
  workers.set(identityOf(c), c);
  return identityOf(c);
}
async function polling(identity: string): Promise<void> {
  await workerUp(env, identity, 0);
}

/** The worker doing the workload's work now: the in-flight activity's, else the last workflow task's. */
async function busyWorker(workloadId: string, inFlight: string | undefined): Promise<string> {
  const handle = env.client.temporal.workflow.getHandle(workloadId);
  if (inFlight) {
    const p = ((await handle.describe()).raw.pendingActivities ?? []).find((a) => a.activityType?.name === inFlight && a.state === STARTED);
    if (p?.lastWorkerIdentity) return p.lastWorkerIdentity;
  }
  const events = (await handle.fetchHistory()).events ?? [];
  const last = events.filter((e) => e.workflowTaskCompletedEventAttributes?.identity).at(-1);
  return last!.workflowTaskCompletedEventAttributes!.identity!;
}

try {
  await polling(await spawn());
  for (const stage of stages) {
    for (const mode of MODES) {
      for (let run = 1; run <= RUNS; run++) {
        if (mode === 'standby' && workers.size < 2) await polling(await spawn());
        if (mode === 'restart') {
          // One worker only: the work is on it.
          for (const [id, c] of [...workers].slice(1)) {
            await killHard(c);
            workers.delete(id);
          }
        }
        const name = `crash-${stage}-${mode}-${run}`;
        const starts = join(env.dir, `${name}.starts`);
        const createsBefore = (await env.admin.stats()).createsAccepted;
        const latency = LATENCY_MS[stage] ?? 0;
        if (latency && stage !== 'terminating') await env.admin.setFaults({ latencyMs: latency });
        const wl = await env.client.launch({
          name,
          command: `echo start >> '${starts}'; sleep ${stage === 'running' ? 20 : 2}`,
          gpu: { classes: ['L4'] },
        });
        const inFlight = IN_FLIGHT[stage];
        const handle = env.client.temporal.workflow.getHandle(wl.workloadId);
        await waitFor(
          `${name} in ${stage}${inFlight ? ` with ${inFlight} in flight` : ''}`,
          async () => {
            const s = await wl.status();
            if (stage === 'terminating' && s.state === 'running' && latency) await env.admin.setFaults({ latencyMs: latency });
            if (s.state !== (stage as WorkloadState)) return false;
            if (!inFlight) return true;
            const d = await handle.describe();
            return (d.raw.pendingActivities ?? []).some((p) => p.activityType?.name === inFlight && p.state === STARTED);
          },
          120_000,
          50,
        );
        // Into the call (or the timer), not at its first instant.
        await new Promise((r) => setTimeout(r, stage === 'running' ? 3_000 : 500));
        const victim = await busyWorker(wl.workloadId, inFlight);
        const child = workers.get(victim);
        if (!child) throw new Error(`${name}: the busy worker ${victim} is not one of ours`);
        await killHard(child);
        workers.delete(victim);
        const killedAt = Date.now();
        // restart: a new worker at once (a supervisor's restart); standby: the other worker, already polling.
        const successor = mode === 'restart' ? await spawn() : [...workers.keys()][0]!;
        if (latency) await env.admin.setFaults({});
        const [progress, workerUpMs] = await Promise.all([
          progressAfter(env, wl.workloadId, successor, killedAt),
          mode === 'restart' ? workerUp(env, successor, killedAt) : Promise.resolve(0),
        ]);
        const result = await wl.result();
        if (result.outcome !== 'succeeded') throw new Error(`${name}: outcome ${result.outcome}`);
        const stats = await env.admin.stats();
        const created = stats.createsAccepted - createsBefore;
        const refIds = result.attempts.map((a) => a.refId);
        const dup = refIds.filter((r) => (stats.byRefId[r] ?? 0) > 1);
        const jobStarts = existsSync(starts) ? readFileSync(starts, 'utf8').trim().split('\n').length : 0;
        if (created !== 1 || dup.length || jobStarts !== 1) {
          throw new Error(`${name}: ${created} instance(s) created, duplicated refIds [${dup.join(', ')}], job started ${jobStarts} time(s); want 1, none, 1`);
        }
        const row = { stage, mode, run, progressMs: progress.at - killedAt, workerUpMs, how: progress.how };
        rows.push(row);
        console.log(
          `${stage.padEnd(21)} ${mode.padEnd(8)} run ${run}: kill → progress ${String(row.progressMs).padStart(6)} ms (${row.how})${mode === 'restart' ? `; new worker polling after ${workerUpMs} ms` : ''}`,
        );
      }
    }
  }
  const stats = await env.admin.stats();
  if (stats.running !== 0) throw new Error(`${stats.running} instance(s) left running`);

  const worst = (stage: Stage, mode: Mode, k: 'progressMs' | 'workerUpMs') => Math.max(...rows.filter((r) => r.stage === stage && r.mode === mode).map((r) => r[k]));
  console.log(`\nkill -9 of the busy worker at every stage (${RUNS} run(s) each); worst kill → progress on a live worker`);
  console.log(`bound: ${RECOVERY_BOUND_MS / 1000} s at every stage (heartbeat timeout ${HEARTBEAT_TIMEOUT_MS / 1000} s + 1 s retry; sticky queue 5 s; workflow task 10 s) after a live worker polls`);
  console.log('stage                  standby worker   restarted worker   its start-up (floor)   standby within bound');
  let ok = true;
  for (const stage of stages) {
    const standby = worst(stage, 'standby', 'progressMs');
    const restart = worst(stage, 'restart', 'progressMs');
    const up = worst(stage, 'restart', 'workerUpMs');
    // The bound is on what gpuflow controls (a live worker is there): a restarted worker adds its own start-up.
    const within = standby <= RECOVERY_BOUND_MS;
    ok &&= within;
    console.log(`${stage.padEnd(22)} ${String(standby).padStart(8)} ms      ${String(restart).padStart(8)} ms        ${String(up).padStart(8)} ms          ${within ? 'yes' : 'NO'}`);
  }
  console.log(`\nevery workload succeeded with one instance, its job started once; instances left running: ${stats.running}`);
  if (!ok) process.exitCode = 1;
} finally {
  for (const c of workers.values()) await killHard(c).catch(() => undefined);
  await env.teardown();
}
