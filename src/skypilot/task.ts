/**
 * A SkyPilot task YAML as a gpuflow workload spec: the subset gpuflow runs today (one node,
 * accelerators, spot, workdir, local file_mounts, setup, run, envs). Anything else is refused
 * with the SkyPilot field's name and why, never silently dropped. Pure (zod).
 */
import { z } from 'zod';

export class SkyPilotTaskError extends Error {
  constructor(readonly source: string, readonly issues: { path: string; message: string }[]) {
    super(`${source} is a SkyPilot task that gpuflow cannot run as written:\n${issues.map((i) => `  - ${i.path || '(task)'}: ${i.message}`).join('\n')}`);
    this.name = 'SkyPilotTaskError';
  }
}

/** Top-level keys only a SkyPilot task has (a gpuflow spec has command/gpu instead). */
const SKYPILOT_ONLY = ['run', 'resources', 'num_nodes', 'file_mounts', 'envs'];

export function isSkyPilotTask(doc: Record<string, unknown>): boolean {
  return !('command' in doc) && !('gpu' in doc) && !('recipe' in doc) && SKYPILOT_ONLY.some((k) => k in doc);
}

/** Why each SkyPilot field gpuflow does not take yet is refused (the message names the way round it). */
const REFUSED: Record<string, string> = {
  'resources.cloud': 'gpuflow picks the cheapest offer across its connections: restrict it with placement.providers in a gpuflow spec',
  'resources.infra': 'gpuflow picks the cheapest offer across its connections: restrict it with placement.providers / placement.regions in a gpuflow spec',
  'resources.region': 'use placement.regions in a gpuflow spec',
  'resources.zone': 'zones are not pinned by gpuflow: use placement.regions in a gpuflow spec',
  'resources.any_of': 'not translated yet: list the GPU models in accelerators as {A100: 8, H100: 8} (same count) instead',
  'resources.ordered': 'not translated yet: gpuflow ranks offers by price; list the models in accelerators',
  'resources.disk_size': 'not translated yet: use resources.minDiskGiB in a gpuflow spec',
  'resources.ports': 'not translated yet: use ports in a gpuflow spec',
  'resources.image_id': 'not translated yet: use image in a gpuflow spec',
  'resources.cpus': 'not translated yet: use resources.minVcpu in a gpuflow spec',
  'resources.memory': 'not translated yet: use resources.minMemoryGiB in a gpuflow spec',
  'resources.instance_type': 'gpuflow chooses the instance type from the GPU: name accelerators instead',
  'resources.job_recovery': 'not translated yet: use recovery in a gpuflow spec',
  'resources.autostop': 'not translated yet: use autoShutdown in a gpuflow spec',
  secrets: 'not translated yet: use secretEnv (env:VAR or file:/path references) in a gpuflow spec',
  service: 'SkyServe services are not translated: use lifecycle: { kind: service } in a gpuflow spec',
  config: 'SkyPilot config overrides have no gpuflow meaning',
  volumes: 'not translated yet: use a recipe volume or checkpoint.dir in a gpuflow spec',
};

const refusedHere = (prefix: string) => Object.fromEntries(Object.entries(REFUSED).filter(([k]) => k.startsWith(prefix) && !k.slice(prefix.length).includes('.')).map(([k]) => [k.slice(prefix.length), z.unknown().optional()]));

const accelerators = z.union([
  z.string().regex(/^[A-Za-z0-9_.-]+(:\d+(\.\d+)?)?$/, 'accelerators is a GPU and count such as "A100:8"'),
  z.record(z.string(), z.number().positive()),
  z.array(z.string()),
]);

const SkyPilotTaskSchema = z
  .object({
    name: z.string().optional(),
    workdir: z.string().min(1).optional(),
    num_nodes: z.number().int().positive().optional(),
    resources: z
      .object({
        accelerators: accelerators.optional(),
        use_spot: z.boolean().optional(),
        ...refusedHere('resources.'),
      })
      .strict()
      .optional(),
    file_mounts: z.record(z.string(), z.union([z.string(), z.record(z.string(), z.unknown())])).optional(),
    setup: z.string().optional(),
    run: z.string().optional(),
    envs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
    ...refusedHere(''),
  })
  .strict();

/** "A100:8" / {A100: 8} / ["A100:8", "H100:8"] → classes and one count. */
function gpuOf(acc: z.output<typeof accelerators>): { classes: string[]; count: number } | string {
  const pairs: [string, number][] =
    typeof acc === 'string'
      ? [[acc.split(':')[0]!, Number(acc.split(':')[1] ?? 1)]]
      : Array.isArray(acc)
        ? acc.map((a) => [a.split(':')[0]!, Number(a.split(':')[1] ?? 1)] as [string, number])
        : Object.entries(acc);
  if (!pairs.length) return 'name at least one accelerator, e.g. "A100:8"';
  const counts = new Set(pairs.map(([, n]) => n));
  if (counts.size > 1) return `gpuflow needs one GPU count for every model listed (got ${[...counts].join(', ')})`;
  const count = pairs[0]![1];
  if (!Number.isInteger(count)) return `fractional GPUs (${count}) are not supported: use a whole count`;
  return { classes: pairs.map(([c]) => c), count };
}

const BUCKET = /^[a-z][a-z0-9+.-]*:\/\//i;

/** The SkyPilot task as a raw gpuflow spec (validated afterwards by parseWorkloadSpec, like any spec). */
export function fromSkyPilotTask(doc: Record<string, unknown>, source: string, fallbackName = 'sky-task'): Record<string, unknown> {
  const r = SkyPilotTaskSchema.safeParse(doc);
  const issues: { path: string; message: string }[] = [];
  if (!r.success) {
    for (const i of r.error.issues) {
      const path = i.path.map(String).join('.');
      if (i.code === 'unrecognized_keys') for (const k of i.keys) issues.push({ path: path ? `${path}.${k}` : k, message: 'not a SkyPilot task field gpuflow knows: check the spelling' });
      else issues.push({ path, message: i.message });
    }
    throw new SkyPilotTaskError(source, issues);
  }
  const t = r.data;
  for (const key of Object.keys(REFUSED)) {
    const [a, b] = key.split('.') as [string, string | undefined];
    const present = b ? (t.resources as Record<string, unknown> | undefined)?.[b] !== undefined : (t as Record<string, unknown>)[a] !== undefined;
    if (present) issues.push({ path: key, message: `not supported: ${REFUSED[key]}` });
  }
  if (t.num_nodes !== undefined && t.num_nodes !== 1) issues.push({ path: 'num_nodes', message: `multi-node tasks (${t.num_nodes} nodes) are not supported yet: set num_nodes: 1` });
  if (!t.run) issues.push({ path: 'run', message: 'gpuflow runs a command: add run' });
  const spec: Record<string, unknown> = {
    name: dnsName(t.name ?? fallbackName),
    ...(t.run ? { command: t.run } : {}),
    ...(t.setup ? { setup: t.setup } : {}),
    ...(t.workdir ? { workdir: t.workdir } : {}),
  };
  if (t.resources?.accelerators !== undefined) {
    const gpu = gpuOf(t.resources.accelerators);
    if (typeof gpu === 'string') issues.push({ path: 'resources.accelerators', message: gpu });
    else spec.gpu = gpu;
  }
  if (t.resources?.use_spot !== undefined) spec.spot = t.resources.use_spot ? 'only' : 'never';
  if (t.file_mounts) {
    const files: Record<string, string> = {};
    for (const [remote, src] of Object.entries(t.file_mounts)) {
      if (typeof src !== 'string') issues.push({ path: `file_mounts.${remote}`, message: 'storage mounts (source/store/mode) are not supported: copy the data in setup, or use a local path' });
      else if (BUCKET.test(src)) issues.push({ path: `file_mounts.${remote}`, message: `bucket mounts (${src.split('://')[0]}://) are not supported: copy from the bucket in setup (e.g. aws s3 sync), or use a local path` });
      else files[remote] = src;
    }
    if (Object.keys(files).length) spec.files = files;
  }
  if (t.envs) {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(t.envs)) {
      if (v === null) issues.push({ path: `envs.${k}`, message: 'has no value (SkyPilot asks for it with --env): give it one in the task' });
      else env[k] = String(v);
    }
    spec.env = env;
  }
  if (issues.length) throw new SkyPilotTaskError(source, issues);
  return spec;
}

/** SkyPilot names allow upper case and "_": gpuflow's are DNS labels. */
function dnsName(name: string): string {
  const n = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return n || 'sky-task';
}
