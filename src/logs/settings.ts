/**
 * Log store settings, from the environment of the worker (which ships and prunes) and the client
 * (which reads): both must name the same store.
 *   GPUFLOW_LOG_DIR              the store's directory (default $GPUFLOW_HOME/logs)
 *   GPUFLOW_LOG_RETENTION        how long a workload's logs are kept after their last line (default 30d; `ms` syntax)
 *   GPUFLOW_LOG_MAX_ATTEMPT_SIZE most bytes kept per attempt; older chunks are dropped past it (default 256MB)
 */
import { join } from 'node:path';
import ms from 'ms';
import { z } from 'zod';
import { gpuflowHome } from '../config/paths.js';

const UNITS: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

const SizeSchema = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb|kib|mib|gib)?$/i, 'a size such as 256MB, 1GiB or 1000000 (bytes)')
  .transform((s) => {
    const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(s)!;
    return Math.round(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
  })
  .refine((n) => n >= 4096, 'at least 4KB');

const DurationSchema = z
  .string()
  .trim()
  .transform((s, ctx) => {
    const v = (ms as (s: string) => number | undefined)(s);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 60_000) {
      ctx.addIssue({ code: 'custom', message: 'a duration of at least 1m, such as 7d, 12h or 30d' });
      return z.NEVER;
    }
    return v;
  });

export interface LogSettings {
  dir: string;
  retentionMs: number;
  maxAttemptBytes: number;
}

export const LOG_DEFAULTS = { retention: '30d', maxAttemptSize: '256MB' } as const;

export function logSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): LogSettings {
  const parse = <T>(name: string, schema: z.ZodType<T>, fallback: string): T => {
    const raw = env[name] ?? fallback;
    const r = schema.safeParse(raw);
    if (!r.success) throw new Error(`${name}=${JSON.stringify(raw)}: ${r.error.issues[0]?.message ?? 'invalid'}`);
    return r.data;
  };
  return {
    dir: env.GPUFLOW_LOG_DIR || join(gpuflowHome(), 'logs'),
    retentionMs: parse('GPUFLOW_LOG_RETENTION', DurationSchema, LOG_DEFAULTS.retention),
    maxAttemptBytes: parse('GPUFLOW_LOG_MAX_ATTEMPT_SIZE', SizeSchema, LOG_DEFAULTS.maxAttemptSize),
  };
}
