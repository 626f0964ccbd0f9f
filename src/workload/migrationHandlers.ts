/** The workload's migration messages: `migrate` (by hand) and `updatePlacement` (residency). */
import { condition, log, setHandler } from '@temporalio/workflow';
import { z } from 'zod';
import { normalizeCountryPin } from '../routing/countries.js';
import { DEFAULT_RESIDENCY_DEADLINE_MS, parseMoveTarget, placementViolation } from '../workflows/migrationPolicy.js';
import type { WorkloadContext } from './context.js';
import { migrateUpdate, updatePlacementUpdate } from './messages.js';
import { migrationOf, recordPlacementChange } from './migrationState.js';

const PlacementUpdateSchema = z
  .object({
    countries: z
      .array(
        z.string().refine((c) => normalizeCountryPin(c) !== undefined, {
          message: 'not an ISO 3166-1 country code or group: use alpha-2 (DE), alpha-3 (DEU) or a group such as EU',
        }),
      )
      .nullable()
      .optional(),
    regions: z.array(z.string().min(1)).nullable().optional(),
  })
  .strict()
  .refine((u) => u.countries !== undefined || u.regions !== undefined, { message: 'set countries or regions (null clears one)' });

function placementUpdateError(input: unknown): string | undefined {
  const r = PlacementUpdateSchema.safeParse(input);
  if (r.success) return undefined;
  return r.error.issues.map((i) => `placement${i.path.length ? `.${i.path.join('.')}` : ''}: ${i.message}`).join('; ');
}

function moveRefusal(ctx: WorkloadContext): string | undefined {
  const { run } = ctx;
  if (run.spec.lifecycle.kind !== 'job') return 'only jobs move; a service is not migrated';
  if (!run.live || run.state !== 'running') return `the job is not running (state: ${run.state})`;
  if (run.stopReason) return 'the workload is stopping';
  if (run.migration?.request) return 'a move is already asked for';
  return undefined;
}

export function registerMigrationHandlers(ctx: WorkloadContext): void {
  const { run } = ctx;

  setHandler(
    migrateUpdate,
    async ({ to }) => {
      const m = migrationOf(run);
      const seq = ++m.requests;
      m.request = { seq, ...(to ? { to } : {}) };
      log.info('move asked for', { to });
      await condition(() => run.migration?.lastCheck?.seq === seq || run.finished || !run.live || !!run.stopReason);
      const verdict = run.migration?.lastCheck;
      if (verdict?.seq !== seq) return { moving: false, why: `the job ended first (state: ${run.state})` };
      return { moving: verdict.move, why: verdict.why };
    },
    {
      validator: ({ to }) => {
        const refusal = moveRefusal(ctx);
        if (refusal) throw new Error(refusal);
        if (to !== undefined) parseMoveTarget(to);
      },
    },
  );

  setHandler(
    updatePlacementUpdate,
    (update) => {
      const placement = { ...run.spec.placement };
      if (update.countries !== undefined) {
        if (update.countries === null || update.countries.length === 0) delete placement.countries;
        else placement.countries = update.countries.map((c) => normalizeCountryPin(c)!);
      }
      if (update.regions !== undefined) {
        if (update.regions === null || update.regions.length === 0) delete placement.regions;
        else placement.regions = update.regions;
      }
      run.spec = { ...run.spec, placement };
      const violation = run.live && run.offer && !run.finished ? placementViolation(run.spec, run.offer) : undefined;
      if (violation && run.spec.lifecycle.kind !== 'job') return `placement updated; ${violation}: a service does not move, it keeps its instance until it is relaunched`;
      const deadlineMs = run.spec.placement.residencyDeadline ?? DEFAULT_RESIDENCY_DEADLINE_MS;
      recordPlacementChange(run, violation, deadlineMs, Date.now());
      log.info('placement updated', { countries: placement.countries, regions: placement.regions, violation });
      if (!violation) return 'placement updated; the current instance satisfies it';
      return `placement updated; ${violation}: the job moves before ${new Date(run.migration!.residency!.deadline).toISOString()}, or stops`;
    },
    {
      validator: (update) => {
        const error = placementUpdateError(update);
        if (error) throw new Error(error);
        if (run.finished || run.state === 'terminated' || run.state === 'terminating') throw new Error(`workload is already ${run.state}`);
      },
    },
  );
}
