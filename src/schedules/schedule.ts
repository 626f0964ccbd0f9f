/**
 * Recurring workloads on Temporal Schedules: what a user declares (cron or interval, overlap policy,
 * catch-up window, execution timeout), validated with zod, and its translation into a Temporal
 * ScheduleOptions whose action starts workloadWorkflow.
 *
 * Every scheduled action carries a workflowExecutionTimeout: with the default overlap policy (skip)
 * a run that never ends would silently skip every later trigger. An execution timeout ends a
 * workflow without running its cleanup, so the workload also gets a lifecycle.maxDuration that
 * ends it gracefully (job stopped, instance terminated) well before the hard timeout.
 */
import ms from 'ms';
import { z } from 'zod';
import { ScheduleOverlapPolicy, type ScheduleOptions, type ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { formatGpuCount } from '../routing/constraints.js';
import { InvalidWorkloadSpecError, parseWorkloadSpec, type WorkloadSpec } from '../workload/spec.js';
import { SA_PROJECT, SA_STATE, SA_TENANT } from '../workflows/messages.js';
import type { workloadWorkflow } from '../workflows/workload.js';

export const OVERLAP_POLICIES = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
  'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
  'terminate-other': ScheduleOverlapPolicy.TERMINATE_OTHER,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
} as const;
export type OverlapPolicy = keyof typeof OVERLAP_POLICIES;

export function overlapName(p: string | undefined): OverlapPolicy {
  const hit = Object.entries(OVERLAP_POLICIES).find(([, v]) => v === p);
  return (hit?.[0] as OverlapPolicy | undefined) ?? 'skip';
}

/** Time between provisioning start and job start, and for terminate: the slack above maxDuration. */
export const DEFAULT_TIMEOUT_MARGIN_MS = 30 * 60_000;

const duration = (field: string, min = 1) =>
  z.union([z.number().positive(), z.string()]).transform((v, ctx): number => {
    const parsed = typeof v === 'number' ? v * 1000 : /^\d+$/.test(v.trim()) ? Number(v) * 1000 : ms(v as ms.StringValue);
    if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < min) {
      ctx.addIssue({ code: 'custom', message: `${field} must be a duration such as "90s", "30m" or "2h"${min > 1 ? ` of at least ${ms(min)}` : ''} (got "${v}")` });
      return z.NEVER;
    }
    return Math.round(parsed);
  });

const cronExpression = z.string().transform((v, ctx) => {
  const s = v.trim();
  const fields = s.split(/\s+/);
  // Temporal accepts 5 fields (minute hour day-of-month month day-of-week), optionally with seconds
  // and year, and the @-shorthands (@hourly, @daily, @every 1h...).
  const ok = s.startsWith('@') ? /^@(yearly|annually|monthly|weekly|daily|midnight|hourly|every\s+\S+)$/.test(s) : fields.length >= 5 && fields.length <= 7 && fields.every((f) => /^[\w*?/,#L-]+$/i.test(f));
  if (!ok) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a cron expression: use 5 fields "minute hour day-of-month month day-of-week" such as "0 3 * * *" (03:00 daily), or @hourly / @daily` });
    return z.NEVER;
  }
  return s;
});

export const WorkloadScheduleSchema = z
  .object({
    /** The schedule's ID; also the prefix of its runs' workload IDs (`<id>-<timestamp>`). Default: the workload name. */
    scheduleId: z
      .string()
      .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'scheduleId must be 1-63 lower-case letters, digits or "-"')
      .optional(),
    /** A workload spec (or `{ recipe: { name, params } }`), validated like `gpuflow run`. */
    workload: z.unknown(),
    /** One cron expression or several (a run at each of their times). */
    cron: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(cronExpression).min(1)).optional(),
    every: duration('every', 1000).optional(),
    /** Phase of an interval: every 1h at offset 15m fires at :15. */
    offset: duration('offset').optional(),
    jitter: duration('jitter').optional(),
    /** IANA time zone for cron expressions, e.g. "Europe/Berlin" (default UTC). */
    timezone: z.string().min(1).optional(),
    overlap: z.enum(Object.keys(OVERLAP_POLICIES) as [OverlapPolicy, ...OverlapPolicy[]]).default('skip'),
    /** How late a missed trigger (server down, schedule paused) may still run; Temporal's minimum is 10 s. */
    catchupWindow: duration('catchupWindow', 10_000).default(60_000),
    /** Hard limit on each run; default lifecycle.maxDuration + 30 min. */
    executionTimeout: duration('executionTimeout', 10_000).optional(),
    pauseOnFailure: z.boolean().default(false),
    paused: z.boolean().default(false),
    note: z.string().max(1000).optional(),
    /** Start one run now as well. */
    triggerImmediately: z.boolean().default(false),
    startAt: z.coerce.date().optional(),
    endAt: z.coerce.date().optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (!s.cron === !s.every) ctx.addIssue({ code: 'custom', path: ['cron'], message: 'set exactly one of cron (e.g. "0 3 * * *") or every (e.g. "6h")' });
    if (s.offset !== undefined && !s.every) ctx.addIssue({ code: 'custom', path: ['offset'], message: 'offset applies to every' });
    if (s.offset !== undefined && s.every !== undefined && s.offset >= s.every) ctx.addIssue({ code: 'custom', path: ['offset'], message: 'offset must be shorter than every' });
    if (s.workload === undefined) ctx.addIssue({ code: 'custom', path: ['workload'], message: 'a workload spec or { recipe: { name, params } } is required' });
  });
export type WorkloadScheduleInput = z.input<typeof WorkloadScheduleSchema>;
export type WorkloadScheduleOptions = z.output<typeof WorkloadScheduleSchema>;

export class InvalidScheduleError extends Error {
  constructor(readonly issues: { path: string; message: string }[]) {
    super(`invalid schedule:\n${issues.map((i) => `  - ${i.path || '(schedule)'}: ${i.message}`).join('\n')}`);
    this.name = 'InvalidScheduleError';
  }
}

export interface PlannedSchedule {
  options: ScheduleOptions<ScheduleOptionsStartWorkflowAction<typeof workloadWorkflow>>;
  spec: WorkloadSpec;
  executionTimeoutMs: number;
}

/**
 * Validates a schedule and its workload and builds the Temporal schedule. Errors name the field
 * (`every`, `workload.gpu.classes`, `executionTimeout`...).
 */
export function planSchedule(input: unknown, taskQueue: string): PlannedSchedule {
  const r = WorkloadScheduleSchema.safeParse(input);
  if (!r.success) {
    throw new InvalidScheduleError(
      r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.join(', ')}` : i.message })),
    );
  }
  const s = r.data;
  let spec: WorkloadSpec;
  try {
    spec = parseWorkloadSpec(s.workload);
  } catch (e) {
    if (e instanceof InvalidWorkloadSpecError) throw new InvalidScheduleError(e.issues.map((i) => ({ path: `workload.${i.path}`, message: i.message })));
    throw e;
  }
  const maxDuration = spec.lifecycle.maxDuration;
  let executionTimeoutMs: number;
  if (s.executionTimeout !== undefined) {
    executionTimeoutMs = s.executionTimeout;
    const margin = Math.min(DEFAULT_TIMEOUT_MARGIN_MS, Math.floor(executionTimeoutMs / 4));
    if (maxDuration === undefined) {
      // The workload stops itself (cleanly, instance terminated) before the hard timeout.
      spec = { ...spec, lifecycle: { ...spec.lifecycle, maxDuration: executionTimeoutMs - margin } };
    } else if (maxDuration >= executionTimeoutMs) {
      throw new InvalidScheduleError([
        {
          path: 'executionTimeout',
          message: `must be longer than the workload's lifecycle.maxDuration (${ms(maxDuration)}) plus time to provision and terminate, e.g. "${ms(maxDuration + DEFAULT_TIMEOUT_MARGIN_MS)}"`,
        },
      ]);
    }
  } else if (maxDuration !== undefined) {
    executionTimeoutMs = maxDuration + DEFAULT_TIMEOUT_MARGIN_MS;
  } else {
    throw new InvalidScheduleError([
      {
        path: 'executionTimeout',
        message: `a scheduled workload needs an execution timeout, so a stuck run cannot silently skip later ones: set executionTimeout (e.g. "2h") or the workload's lifecycle.maxDuration`,
      },
    ]);
  }
  const scheduleId = s.scheduleId ?? spec.name;
  const gpu = `${formatGpuCount(spec.gpu.count)}x ${spec.gpu.classes.join('|')}`;
  const when = s.every !== undefined ? `every ${ms(s.every)}` : `cron ${s.cron!.join('; ')}`;
  const options: PlannedSchedule['options'] = {
    scheduleId,
    spec: {
      ...(s.every !== undefined ? { intervals: [{ every: s.every, ...(s.offset !== undefined ? { offset: s.offset } : {}) }] } : {}),
      ...(s.cron !== undefined ? { cronExpressions: s.cron } : {}),
      ...(s.jitter !== undefined ? { jitter: s.jitter } : {}),
      ...(s.timezone ? { timezone: s.timezone } : {}),
      ...(s.startAt ? { startAt: s.startAt } : {}),
      ...(s.endAt ? { endAt: s.endAt } : {}),
    },
    action: {
      type: 'startWorkflow',
      workflowType: 'workloadWorkflow',
      // Temporal appends the scheduled time: runs are `<scheduleId>-<RFC 3339 time>`.
      workflowId: scheduleId,
      taskQueue,
      args: [{ spec }],
      workflowExecutionTimeout: executionTimeoutMs,
      typedSearchAttributes: new TypedSearchAttributes([
        { key: SA_STATE, value: 'pending' },
        { key: SA_PROJECT, value: spec.project },
        { key: SA_TENANT, value: spec.tenant },
      ]),
      memo: { name: spec.name, gpu, spot: spec.spot, schedule: scheduleId, ...(spec.recipeRef ? { recipe: spec.recipeRef.name } : {}) },
      staticSummary: `${spec.name} (${gpu}), scheduled by ${scheduleId}`,
    },
    policies: { overlap: OVERLAP_POLICIES[s.overlap], catchupWindow: s.catchupWindow, pauseOnFailure: s.pauseOnFailure },
    memo: { gpuflow: true, workload: spec.name, project: spec.project, tenant: spec.tenant, gpu, when },
    state: {
      paused: s.paused,
      ...(s.note ? { note: s.note } : {}),
      ...(s.triggerImmediately ? { triggerImmediately: true } : {}),
    },
  };
  return { options, spec, executionTimeoutMs };
}
