/** `gpuflow schedule create|list|describe|pause|unpause|trigger|delete`: recurring workloads on Temporal Schedules. */
import { Option, type Command } from 'commander';
import ms from 'ms';
import { OVERLAP_POLICIES } from '../schedules/schedule.js';
import type { WorkloadScheduleDescription } from '../client/schedules.js';
import { collectList, collectParam, withGpuflowClient } from './cliContext.js';
import { loadRunTarget } from './runTarget.js';

/** "2026-12-04 09:00:00 Europe/Berlin": in the schedule's time zone when it has one, else the local one. */
export function zonedTime(t: Date, timeZone?: string): string {
  const f = new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: timeZone ? undefined : 'short' });
  return `${f.format(t)}${timeZone ? ` ${timeZone}` : ''}`;
}

function formatDescription(d: WorkloadScheduleDescription): string {
  const row = (k: string, v: string) => `${k.padEnd(18)}${v}`;
  return [
    row('schedule', d.scheduleId),
    row('when', `${d.when}${d.timezone ? ` (${d.timezone})` : ''}`),
    row('state', d.paused ? `paused${d.note ? ` (${d.note})` : ''}` : 'active'),
    row('workload', `${d.workload ?? '?'}${d.project ? ` (project ${d.project})` : ''}`),
    row('overlap', d.overlap),
    row('catch-up window', ms(d.catchupWindowMs)),
    row('execution timeout', d.executionTimeoutMs ? ms(d.executionTimeoutMs) : '-'),
    row('max duration', d.spec?.lifecycle.maxDuration ? ms(d.spec.lifecycle.maxDuration) : '-'),
    row('runs', `${d.actionsTaken} started, ${d.skippedOverlap} skipped (overlap), ${d.missedCatchupWindow} missed (catch-up window)`),
    row('running', d.runningWorkloads.join(', ') || '-'),
    row('next', d.nextRuns.map((t) => zonedTime(t, d.timezone)).join(', ') || '-'),
    ...d.recentRuns.map((r, i) => row(i === 0 ? 'recent' : '', `${r.workloadId} at ${zonedTime(r.startedAt, d.timezone)}`)),
  ].join('\n');
}

export function register(program: Command): void {
  const schedule = program.command('schedule').description('recurring workloads on Temporal Schedules (cron or interval)');

  schedule
    .command('create')
    .description('schedule a workload spec file or a recipe; every run gets an execution timeout')
    .argument('<spec-or-recipe>', 'workload spec file (YAML) or recipe name')
    .option('--id <scheduleId>', 'schedule ID (default: the workload name)')
    .option('--cron <expr>', 'cron expression, e.g. "0 3 * * *" (repeatable)', collectList)
    .option('--every <duration>', 'interval, e.g. 6h')
    .option('--offset <duration>', 'phase of the interval, e.g. 15m')
    .option('--jitter <duration>', 'random delay up to this much')
    .option('--timezone <tz>', 'IANA time zone for --cron, e.g. Europe/Berlin')
    .addOption(new Option('--overlap <policy>', 'when a run is still going at the next trigger').choices(Object.keys(OVERLAP_POLICIES)).default('skip'))
    .option('--catchup-window <duration>', 'how late a missed trigger may still run', '1m')
    .option('--execution-timeout <duration>', "hard limit per run (default: the workload's lifecycle.maxDuration + 30m)")
    .option('--pause-on-failure', 'pause the schedule when a run fails')
    .option('--paused', 'create it paused')
    .option('--note <text>')
    .option('--trigger', 'also start one run now')
    .option('-p, --param <key=value>', 'a recipe parameter (repeatable)', collectParam)
    .option('--recipes-dir <dir>', 'also look for recipes here (repeatable)', collectList)
    .option('--project <project>')
    .option('--json', 'machine-readable output')
    .action(async (target: string, o: Record<string, unknown>, cmd: Command) => {
      const workload = loadRunTarget(target, { params: (o.param as Record<string, string>) ?? {}, recipesDir: o.recipesDir as string[] | undefined });
      if (o.project) workload.project = o.project;
      const input = {
        ...(o.id ? { scheduleId: o.id as string } : {}),
        workload,
        ...(o.cron ? { cron: o.cron as string[] } : {}),
        ...(o.every ? { every: o.every as string } : {}),
        ...(o.offset ? { offset: o.offset as string } : {}),
        ...(o.jitter ? { jitter: o.jitter as string } : {}),
        ...(o.timezone ? { timezone: o.timezone as string } : {}),
        overlap: o.overlap as keyof typeof OVERLAP_POLICIES,
        catchupWindow: o.catchupWindow as string,
        ...(o.executionTimeout ? { executionTimeout: o.executionTimeout as string } : {}),
        pauseOnFailure: !!o.pauseOnFailure,
        paused: !!o.paused,
        ...(o.note ? { note: o.note as string } : {}),
        triggerImmediately: !!o.trigger,
      };
      await withGpuflowClient(cmd, async (c) => {
        const h = await c.schedules.create(input);
        const d = await h.describe();
        console.log(o.json ? JSON.stringify(d) : formatDescription(d));
      });
    });

  schedule
    .command('list')
    .description("gpuflow's schedules")
    .option('--project <project>')
    .option('--json')
    .action(async (o: { project?: string; json?: boolean }, cmd: Command) => {
      await withGpuflowClient(cmd, async (c) => {
        const rows = await c.schedules.list(o.project ? { project: o.project } : {});
        if (o.json) return console.log(JSON.stringify(rows));
        console.log(['SCHEDULE'.padEnd(28), 'STATE'.padEnd(7), 'WHEN'.padEnd(24), 'WORKLOAD'.padEnd(20), 'NEXT RUN'].join(' '));
        for (const r of rows) {
          console.log([r.scheduleId.padEnd(28), (r.paused ? 'paused' : 'active').padEnd(7), r.when.padEnd(24), (r.workload ?? '').padEnd(20), (r.nextRuns[0] ? zonedTime(r.nextRuns[0], r.timezone) : '-')].join(' '));
        }
      });
    });

  schedule
    .command('describe')
    .argument('<scheduleId>')
    .option('--json')
    .description("a schedule's spec, policies, recent and next runs")
    .action(async (id: string, o: { json?: boolean }, cmd: Command) => {
      await withGpuflowClient(cmd, async (c) => {
        const d = await c.schedules.handle(id).describe();
        console.log(o.json ? JSON.stringify(d) : formatDescription(d));
      });
    });

  for (const [name, description] of [
    ['pause', 'stop starting runs (running ones go on)'],
    ['unpause', 'start runs again'],
  ] as const) {
    schedule
      .command(name)
      .argument('<scheduleId>')
      .option('--note <text>', 'why')
      .description(description)
      .action(async (id: string, o: { note?: string }, cmd: Command) => {
        await withGpuflowClient(cmd, async (c) => {
          const h = c.schedules.handle(id);
          await (name === 'pause' ? h.pause(o.note) : h.unpause(o.note));
          console.log(`${id}: ${name === 'pause' ? 'paused' : 'active'}`);
        });
      });
  }

  schedule
    .command('trigger')
    .argument('<scheduleId>')
    .description('start one run now (the overlap policy applies)')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      await withGpuflowClient(cmd, async (c) => {
        await c.schedules.handle(id).trigger();
        console.log(`${id}: triggered`);
      });
    });

  schedule
    .command('delete')
    .argument('<scheduleId>')
    .description('delete the schedule (runs already started go on)')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      await withGpuflowClient(cmd, async (c) => {
        await c.schedules.handle(id).delete();
        console.log(`${id}: deleted`);
      });
    });
}
