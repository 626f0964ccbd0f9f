/**
 * Which GPU class names a spec may ask for, and the nearest known ones for a typo ("H900" →
 * H200, H100). A class is known when its model (after the SDK's normalizer: brand words,
 * form factor and memory dropped) is a model of {@link KNOWN_GPU_MODELS} or of the catalogs
 * gpuflow reads (SkyPilot's clouds, older and consumer cards). Pure: no I/O.
 */
import { distance } from 'fastest-levenshtein';
import { KNOWN_GPU_MODELS } from '../providers/sdk/gpu.js';
import { parseGpuClass } from './gpuClass.js';

/** Models providers and SkyPilot catalogs list beyond the SDK's table (canonical spelling). */
const CATALOG_ONLY_MODELS = [
  'B300', 'B100', 'H800', 'H20', 'A800', 'L20', 'A16', 'A2', 'P100', 'P40', 'P4', 'K80', 'M60', 'T4G',
  'RTX6000', 'RTX8000', 'RTXPRO6000', 'RTXPRO6000S', 'RTXA4500', 'RTXA2000', 'RTX5080', 'RTX4080', 'RTX4070Ti', 'RTX4070', 'RTX4060Ti',
  'RTX4060', 'RTX3090Ti', 'RTX3080Ti', 'RTX3080', 'RTX3070', 'RTX3060', 'RTX2080Ti', 'RTX2080', 'GTX1080Ti', 'TitanV', 'TitanRTX',
  'M4000', 'P4000', 'P5000', 'P6000', 'MI250', 'MI210', 'MI100', 'MI355X', 'Gaudi',
];

/** Canonical names, in the SDK table's order (newest data-center models first), for messages. */
export const KNOWN_GPU_CLASSES: readonly string[] = [...KNOWN_GPU_MODELS.map((m) => m.name), ...CATALOG_ONLY_MODELS];

const compact = (name: string) => name.toUpperCase().replace(/[\s_.-]+/g, '');
const KNOWN_KEYS: ReadonlySet<string> = new Set([
  ...KNOWN_GPU_CLASSES.map((n) => parseGpuClass(n).model),
  ...KNOWN_GPU_MODELS.flatMap((m) => (m.aliases ?? []).map(compact)),
]);

/** Whether `text` names a GPU model gpuflow knows ("*" and "any" match every GPU). */
export function isKnownGpuClass(text: string): boolean {
  const p = parseGpuClass(text);
  return p.model === '' || KNOWN_KEYS.has(p.model);
}

/** Up to `max` known classes nearest to `text` by edit distance of their model names (ties keep table order). */
export function nearestGpuClasses(text: string, max = 2): string[] {
  const model = parseGpuClass(text).model;
  // A bare number ("4090") is nearest to the model that contains it ("RTX4090").
  const scored = KNOWN_GPU_CLASSES.map((name) => ({ name, d: model.length >= 3 && compact(name).includes(model) ? 0.5 : distance(model, compact(name)) }));
  const best = Math.min(...scored.map((s) => s.d));
  // Only suggestions close enough to be a typo of it: at most half the name differs.
  if (best > Math.max(1, Math.ceil(model.length / 2))) return [];
  return scored
    .filter((s) => s.d === best)
    .slice(0, max)
    .map((s) => s.name);
}

/** "H900: unknown GPU class; did you mean H200 or H100?" or undefined when the class is known. */
export function unknownGpuClassMessage(text: string): string | undefined {
  if (isKnownGpuClass(text)) return undefined;
  const near = nearestGpuClasses(text);
  const hint = near.length ? `did you mean ${near.join(' or ')}?` : `known classes: ${KNOWN_GPU_MODELS.map((m) => m.name).join(', ')}, ...`;
  return `${text}: unknown GPU class; ${hint} (or "*" for any GPU)`;
}
