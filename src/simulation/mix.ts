/**
 * A workload mix: the jobs to replay. YAML or JSON; each job's `spec` is a gpuflow workload spec
 * (the same schema `gpuflow run` takes, minus `name` and `command`), so its GPU needs, spot
 * tolerance, placement pins, recovery and auto-shutdown mean exactly what they mean to a workflow.
 */
import ms from 'ms';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { WorkloadSpecSchema, type WorkloadSpec } from '../workload/spec.js';
import { STEP_MINUTES, stepsFor } from './grid.js';

const duration = (field: string, allowZero = false) =>
  z.union([z.number(), z.string()]).transform((v, ctx): number => {
    const parsed = typeof v === 'number' ? v * 1000 : /^\d+$/.test(v.trim()) ? Number(v) * 1000 : ms(v as ms.StringValue);
    if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0 || (!allowZero && parsed === 0)) {
      ctx.addIssue({ code: 'custom', message: `${field} must be a duration such as "30m", "8h" or "2d"${allowZero ? ' (or 0)' : ''} (got ${JSON.stringify(v)})` });
      return z.NEVER;
    }
    return Math.round(parsed);
  });

export const MixJobSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,50}[a-z0-9])?$/, 'name must be lower-case letters, digits or "-", like "finetune"'),
    /** Copies of this job, submitted `every` apart. */
    count: z.number().int().min(1).max(10_000).default(1),
    submitAt: duration('submitAt', true).default(0),
    every: duration('every', true).default(0),
    /** GPU time the job needs, excluding startup. */
    work: duration('work'),
    /** Progress is saved this often; without it a lost instance loses all progress. */
    checkpointEvery: duration('checkpointEvery').optional(),
    /** Provision + bootstrap + restore on each new instance, billed (default one step, 6m). */
    startup: duration('startup', true).default(STEP_MINUTES * 60_000),
    /** After the work the process keeps the GPU, idle, this long before it exits (a notebook, a hung job). */
    idleTail: duration('idleTail', true).default(0),
    spec: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export const MixSchema = z
  .object({
    name: z.string().min(1).default('mix'),
    jobs: z.array(MixJobSchema).min(1, 'jobs needs at least one job'),
  })
  .strict();

/** One job instance to simulate. */
export interface SimJob {
  id: string;
  spec: WorkloadSpec;
  submitStep: number;
  workSteps: number;
  /** Checkpoint interval in steps; Infinity without checkpoints. */
  checkpointSteps: number;
  startupSteps: number;
  idleTailMs: number;
}

export interface Mix {
  name: string;
  jobs: SimJob[];
}

export class InvalidMixError extends Error {
  override name = 'InvalidMixError';
}

function issuesText(issues: readonly z.core.$ZodIssue[], prefix: string): string {
  return issues.map((i) => `${[prefix, ...i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))].join('').replace(/^\./, '').replace(/\.\[/g, '[')}: ${i.message}`).join('\n');
}

/** Parses and expands a mix (already-parsed YAML/JSON value). Throws InvalidMixError naming each bad field. */
export function parseMix(value: unknown): Mix {
  const r = MixSchema.safeParse(value);
  if (!r.success) throw new InvalidMixError(`invalid mix:\n${issuesText(r.error.issues, '')}`);
  const jobs: SimJob[] = [];
  const names = new Set<string>();
  r.data.jobs.forEach((j, i) => {
    if (names.has(j.name)) throw new InvalidMixError(`invalid mix:\njobs[${i}].name: "${j.name}" is used twice; job names must be unique`);
    names.add(j.name);
    if ('name' in j.spec || 'command' in j.spec) throw new InvalidMixError(`invalid mix:\njobs[${i}].spec: leave out name and command (the job's name is jobs[${i}].name)`);
    const s = WorkloadSpecSchema.safeParse({ ...j.spec, name: j.name, command: 'simulated' });
    if (!s.success) throw new InvalidMixError(`invalid mix:\n${issuesText(s.error.issues, `jobs[${i}].spec`)}`);
    if (s.data.lifecycle.kind !== 'job') throw new InvalidMixError(`invalid mix:\njobs[${i}].spec.lifecycle.kind: the simulator replays jobs; services are not simulated`);
    for (let c = 0; c < j.count; c++) {
      jobs.push({
        id: j.count === 1 ? j.name : `${j.name}-${c + 1}`,
        spec: s.data,
        submitStep: stepsFor(j.submitAt + c * j.every),
        workSteps: stepsFor(j.work),
        checkpointSteps: j.checkpointEvery !== undefined ? stepsFor(j.checkpointEvery) : Infinity,
        startupSteps: stepsFor(j.startup),
        idleTailMs: j.idleTail,
      });
    }
  });
  return { name: r.data.name, jobs };
}

/** A mix from YAML or JSON text; `file` names it in errors. */
export function parseMixText(text: string, file = 'mix'): Mix {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (e) {
    throw new InvalidMixError(`${file} is not YAML or JSON: ${(e as Error).message}`);
  }
  try {
    return parseMix(value);
  } catch (e) {
    if (e instanceof InvalidMixError) e.message = `${file}: ${e.message}`;
    throw e;
  }
}
