/** "H100:8", "H100|A100:1", "L4": GPU class(es) and count in one token, as `--gpu` takes them. */
import { z } from 'zod';

const SHORTHAND = /^([A-Za-z0-9_.-]+(?:\|[A-Za-z0-9_.-]+)*)(?::([1-9]\d*))?$/;

export interface GpuShorthand {
  classes: string[];
  count: number;
}

export const GPU_SHORTHAND_HINT = 'use MODEL[:COUNT], e.g. H100:8 or "H100|A100:1"';

/** The parsed value, or undefined when `text` is not MODEL[:COUNT]. */
export function parseGpuShorthand(text: string): GpuShorthand | undefined {
  const m = SHORTHAND.exec(text.trim());
  if (!m) return undefined;
  return { classes: m[1]!.split('|'), count: m[2] ? Number(m[2]) : 1 };
}

export function formatGpuShorthand(g: GpuShorthand): string {
  return `${g.classes.join('|')}:${g.count}`;
}

/** A connection's `defaultGpu` field: kept as written ("H100:8"), validated here. */
export const GpuShorthandSchema = z.string().refine((v) => parseGpuShorthand(v) !== undefined, { message: `defaultGpu: ${GPU_SHORTHAND_HINT}` });
