/**
 * Auto-shutdown settings as parsed (durations in ms): what the setAutoShutdown update carries,
 * checked again in the workflow's validator since any client may send it. Only zod: the workflow
 * bundle imports this without the rest of the spec's schemas.
 */
import { z } from 'zod';

export const AutoShutdownOnSchema = z
  .object({
    utilizationBelowPercent: z.number().min(0, 'utilizationBelowPercent must be 0-100').max(100, 'utilizationBelowPercent must be 0-100'),
    idleWindow: z.number().positive('idleWindow must be a positive duration in ms'),
    sampleInterval: z.number().positive('sampleInterval must be a positive duration in ms'),
    requireNoSshSessions: z.boolean().default(false),
  })
  .strict();

export const AutoShutdownSettingsSchema = z.union([z.literal('off'), AutoShutdownOnSchema]);

/** Why `next` is not valid auto-shutdown settings, or undefined. */
export function autoShutdownSettingsError(next: unknown): string | undefined {
  if (next === 'off') return undefined;
  const r = AutoShutdownOnSchema.safeParse(next);
  return r.success ? undefined : r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}
