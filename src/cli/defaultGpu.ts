/**
 * Connections' `defaultGpu` in `gpuflow run`: the GPU a workload gets when it names none, neither in
 * the spec, nor through its recipe's defaults, nor with `--gpu` (an explicit GPU always wins; a
 * default never narrows one). The connections considered are those the workload may use (its
 * `placement.providers.allow`/`deny`, by connection name or kind). If they declare one default (or
 * several that agree), it becomes the workload's `gpu`; if they disagree, the run is refused with
 * the candidates, since silently picking one would make the GPU depend on file order. The default
 * names the GPU, not the place: placement is left as the workload says.
 */
import type { Connection } from '../config/connections.js';
import { formatGpuShorthand, parseGpuShorthand, type GpuShorthand } from '../config/gpuShorthand.js';
import { expandRecipe } from '../recipes/recipe.js';

/** Whether the raw spec, after its recipe's defaults, names a GPU. */
export function workloadNamesGpu(raw: Record<string, unknown>): boolean {
  if (raw.gpu !== undefined) return true;
  if (raw.recipe === undefined) return false;
  try {
    return expandRecipe(raw).gpu !== undefined;
  } catch {
    return true; // a bad recipe is reported by spec validation, not papered over with a default
  }
}

function mayUse(c: Connection, raw: Record<string, unknown>): boolean {
  const providers = (raw.placement as { providers?: { allow?: unknown; deny?: unknown } } | undefined)?.providers;
  const names = (v: unknown) => (Array.isArray(v) ? v.map(String) : undefined);
  const allow = names(providers?.allow);
  const deny = names(providers?.deny) ?? [];
  const matches = (list: string[]) => list.includes(c.name) || list.includes(c.kind);
  return (!allow || matches(allow)) && !matches(deny);
}

export interface DefaultGpuChoice {
  gpu: GpuShorthand;
  /** The connections that declared it. */
  from: string[];
}

/** The default GPU for a workload that names none; undefined when no usable connection has one. */
export function chooseDefaultGpu(raw: Record<string, unknown>, connections: Connection[]): DefaultGpuChoice | undefined {
  const byGpu = new Map<string, { gpu: GpuShorthand; from: string[] }>();
  for (const c of connections) {
    if (!c.defaultGpu || !mayUse(c, raw)) continue;
    const gpu = parseGpuShorthand(c.defaultGpu)!;
    const key = formatGpuShorthand(gpu);
    const entry = byGpu.get(key) ?? { gpu, from: [] };
    entry.from.push(c.name);
    byGpu.set(key, entry);
  }
  if (byGpu.size > 1) {
    const list = [...byGpu].map(([g, e]) => `${e.from.join(', ')}: ${g}`).join('; ');
    throw new Error(`the workload names no GPU and the connections it may use have different default GPUs (${list}): pass --gpu, set gpu in the spec, or narrow placement.providers.allow`);
  }
  return [...byGpu.values()][0];
}
