/** `gpuflow migrate` (move a running job by hand) and `gpuflow placement` (change where it may run). */
import type { Command } from 'commander';
import { withGpuflowClient } from './cliContext.js';
import { rootMessage } from './follow.js';

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function register(program: Command): void {
  program
    .command('migrate')
    .argument('<workloadId>')
    .option('--to <provider/region>', 'where to move (a provider or connection, optionally /region); default: the cheapest other satisfying offer')
    .option('--wait', 'wait until the job runs on the new instance')
    .description('move a running job to another instance, make-before-break: the new one runs and is bootstrapped before the job stops (and checkpoints) on the old one')
    .addHelpText('after', '\nExamples:\n  gpuflow migrate train-1b79c0de\n  gpuflow migrate train-1b79c0de --to local/eu-central --wait\n')
    .action(async (id: string, o: { to?: string; wait?: boolean }, cmd: Command) => {
      await withGpuflowClient(cmd, async (c) => {
        const h = c.handle(id);
        const before = (await h.status()).migration?.moves ?? 0;
        let verdict: { moving: boolean; why: string };
        try {
          verdict = await h.migrate(o.to);
        } catch (e) {
          throw new Error(`${id}: cannot move: ${rootMessage(e as Error)}`);
        }
        console.log(`${id}: ${verdict.moving ? 'moving' : 'not moving'}: ${verdict.why}`);
        if (!verdict.moving) {
          process.exitCode = 1;
          return;
        }
        if (!o.wait) return;
        for (;;) {
          const st = await h.status();
          if ((st.migration?.moves ?? 0) > before && st.state === 'running') {
            console.log(`${id}: running on ${st.offer?.connection}/${st.offer?.location} (${st.instance?.cloudId})`);
            return;
          }
          if (st.state === 'terminated') throw new Error(`${id}: ended before the move (${st.outcome})`);
          const last = st.attempts.at(-1);
          if (last?.move && (last.outcome === 'abandoned' || last.outcome === 'failed-over')) throw new Error(`${id}: the move did not work out: ${last.reason}`);
          await new Promise((r) => setTimeout(r, 1000));
        }
      });
    });

  program
    .command('placement')
    .argument('<workloadId>')
    .option('--countries <codes>', 'comma list of ISO codes or groups (DE,FI or EU); "none" clears')
    .option('--regions <names>', 'comma list of regions; "none" clears')
    .description("change where a running workload may run; a job the new rules exclude moves within placement.residencyDeadline (default 30m), or stops")
    .addHelpText('after', '\nExamples:\n  gpuflow placement train-1b79c0de --countries DE,FI\n  gpuflow placement train-1b79c0de --countries none\n')
    .action(async (id: string, o: { countries?: string; regions?: string }, cmd: Command) => {
      if (o.countries === undefined && o.regions === undefined) throw new Error('set --countries and/or --regions');
      const pick = (v: string | undefined) => (v === undefined ? {} : v === 'none' ? null : list(v));
      const update = { ...(o.countries !== undefined ? { countries: pick(o.countries) as string[] | null } : {}), ...(o.regions !== undefined ? { regions: pick(o.regions) as string[] | null } : {}) };
      await withGpuflowClient(cmd, async (c) => {
        try {
          console.log(`${id}: ${await c.handle(id).updatePlacement(update)}`);
        } catch (e) {
          throw new Error(`${id}: ${rootMessage(e as Error)}`);
        }
      });
    });
}
