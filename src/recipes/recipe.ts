/**
 * Recipes: reusable, parameterized workload templates (YAML in recipes/ or a directory the user
 * names). A recipe declares what runs (image: a Docker image or an NGC catalog entry, and a command
 * template whose `{{ param }}` placeholders are filled with shell-quoted, validated values), what it
 * needs (GPU class and count, volumes, ports) and how it lives (lifecycle, auto-shutdown), all as
 * defaults under which the user's own spec fields win.
 *
 * On a host with a Docker engine the job runs in the image (GPUs, host network, volumes mounted);
 * on a host without one (the local cloud) the command runs directly on the host: see jobScript in
 * src/activities/node.ts.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { shellQuote } from '../ssh/shellQuote.js';
import { WorkloadSpecSchema } from '../workload/specSchema.js';

const paramName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'parameter names are letters, digits and _');
const scalar = z.union([z.string(), z.number(), z.boolean()]);

export const RecipeParamSchema = z
  .object({
    type: z.enum(['string', 'number', 'boolean']),
    description: z.string().default(''),
    default: scalar.optional(),
    /** For strings: a regular expression the whole value must match. */
    pattern: z.string().optional(),
    /** The only accepted values. */
    enum: z.array(scalar).min(1).optional(),
    /** For numbers: bounds (inclusive) and whether it must be whole. */
    min: z.number().optional(),
    max: z.number().optional(),
    integer: z.boolean().optional(),
    /** An example value for `recipes show` (helps with required parameters). */
    example: scalar.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.pattern !== undefined) {
      try {
        new RegExp(p.pattern);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: ['pattern'], message: `not a regular expression: ${(e as Error).message}` });
      }
    }
    if (p.default !== undefined) {
      const problem = checkParamValue(p as RecipeParam, p.default);
      if (problem) ctx.addIssue({ code: 'custom', path: ['default'], message: `the default ${problem}` });
    }
  });
export type RecipeParam = z.output<typeof RecipeParamSchema>;

/**
 * A Docker image reference (`[registry/]repo[:tag][@sha256:digest]`). NGC catalog entries are
 * images on nvcr.io, e.g. `nvcr.io/nvidia/pytorch:24.08-py3`; `ngc:nvidia/pytorch:24.08-py3` is
 * accepted as a shorthand and expanded.
 */
const IMAGE_REF = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
export const NGC_REGISTRY = 'nvcr.io';

export const ImageSchema = z.string().transform((v, ctx) => {
  const ref = v.startsWith('ngc:') ? `${NGC_REGISTRY}/${v.slice(4)}` : v;
  if (!IMAGE_REF.test(ref)) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not an image reference: use a Docker image such as "vllm/vllm-openai:v0.6.3" or an NGC entry such as "nvcr.io/nvidia/pytorch:24.08-py3" (or "ngc:nvidia/pytorch:24.08-py3")` });
    return z.NEVER;
  }
  return ref;
});

/** Which registry an image comes from, for display and for the NGC login on the node. */
export function imageRegistry(image: string): 'ngc' | 'docker-hub' | string {
  const first = image.split('/')[0]!;
  if (first === NGC_REGISTRY) return 'ngc';
  if (!image.includes('/') || !/[.:]/.test(first) || first === 'docker.io') return 'docker-hub';
  return first;
}

const volumeName = z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'volume names are 1-32 lower-case letters, digits or _, starting with a letter');
const safePath = (what: string) => z.string().regex(/^[A-Za-z0-9._/@+-]+$/, `${what} may hold only letters, digits and ._/@+- (no spaces, no colons)`);

/**
 * Storage the job sees at `mountPath` in its container (on a host without Docker: at the host path,
 * in `$GPUFLOW_VOLUME_<NAME>` either way).
 * - ephemeral: scratch space on the instance's disk, gone with the instance (sized into resources.minDiskGiB);
 * - persistent: a host directory kept across job restarts on the instance (`hostPath`, default
 *   `~/.gpuflow/volumes/<name>`); point `hostPath` at a provider's persistent disk to keep it across instances;
 * - network: a network filesystem the provider mounts on the instance at `hostPath` (e.g. a Lambda
 *   filesystem under /lambda/nfs/<name>); the job fails fast with a clear message when it is not mounted.
 */
export const RecipeVolumeSchema = z
  .object({
    name: volumeName,
    kind: z.enum(['ephemeral', 'persistent', 'network']),
    mountPath: safePath('mountPath').refine((p) => p.startsWith('/'), 'mountPath must be absolute, e.g. /workspace/data'),
    hostPath: safePath('hostPath').optional(),
    sizeGiB: z.number().positive().optional(),
    readOnly: z.boolean().default(false),
    description: z.string().default(''),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.kind === 'network' && !v.hostPath) ctx.addIssue({ code: 'custom', path: ['hostPath'], message: 'a network volume needs hostPath: where the provider mounts it on the instance' });
    if (v.kind === 'ephemeral' && v.hostPath) ctx.addIssue({ code: 'custom', path: ['hostPath'], message: 'an ephemeral volume lives in the job’s scratch space: drop hostPath or use kind: persistent' });
  });
export type RecipeVolume = z.output<typeof RecipeVolumeSchema>;

export const RecipePortSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/).optional(),
    /** The port the job listens on (jobs use the host network, so it is the instance's port too). */
    port: z.number().int().min(1).max(65535),
    /** true: opened to the internet by the firewall rules; false: reachable only inside the provider network / over SSH. */
    public: z.boolean().default(false),
    protocol: z.enum(['tcp', 'http', 'grpc']).default('tcp'),
    /** An HTTP path that answers 200 when the service is ready (for service health checks). */
    healthPath: z.string().regex(/^\//).optional(),
  })
  .strict();
export type RecipePort = z.output<typeof RecipePortSchema>;

export const RecipeSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'recipe names are lower-case letters, digits and "-"'),
    description: z.string(),
    /** Docker image or NGC catalog entry the command runs in on hosts with a Docker engine. */
    image: ImageSchema.optional(),
    command: z.string().min(1),
    params: z.record(paramName, RecipeParamSchema).default({}),
    volumes: z.array(RecipeVolumeSchema).default([]),
    ports: z.array(RecipePortSchema).default([]),
    /** Workload spec defaults (gpu, spot, lifecycle, autoShutdown, resources, env...), validated as a spec. */
    defaults: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()
  .superRefine((r, ctx) => {
    const names = new Set<string>();
    for (const [i, v] of r.volumes.entries()) {
      if (names.has(v.name)) ctx.addIssue({ code: 'custom', path: ['volumes', i, 'name'], message: `volume "${v.name}" is declared twice` });
      names.add(v.name);
    }
    const ports = new Set<number>();
    for (const [i, p] of r.ports.entries()) {
      if (ports.has(p.port)) ctx.addIssue({ code: 'custom', path: ['ports', i, 'port'], message: `port ${p.port} is declared twice` });
      ports.add(p.port);
    }
    for (const key of placeholders(r.command)) {
      if (!(key in r.params)) ctx.addIssue({ code: 'custom', path: ['command'], message: `uses {{ ${key} }} but declares no such parameter` });
    }
    for (const field of ['command', 'image', 'recipe', 'name']) {
      if (field in r.defaults) ctx.addIssue({ code: 'custom', path: ['defaults', field], message: `set ${field} at the recipe's top level, not in defaults` });
    }
    if ('ports' in r.defaults) ctx.addIssue({ code: 'custom', path: ['defaults', 'ports'], message: 'declare ports at the recipe’s top level (with name, public, healthPath)' });
    // The defaults must make a valid spec (with a placeholder name, command and GPU when absent).
    const probe = WorkloadSpecSchema.safeParse({ name: 'recipe-check', command: 'true', gpu: { classes: ['ANY'] }, ...r.defaults });
    if (!probe.success) {
      for (const i of probe.error.issues) {
        ctx.addIssue({
          code: 'custom',
          path: ['defaults', ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
          message: i.code === 'unrecognized_keys' ? `unknown spec field(s) ${i.keys.join(', ')}` : i.message,
        });
      }
    }
  });
export type Recipe = z.output<typeof RecipeSchema>;
export type RecipeInput = z.input<typeof RecipeSchema>;

function placeholders(template: string): string[] {
  return [...template.matchAll(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g)].map((m) => m[1]!);
}

export const BUILTIN_RECIPES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'recipes');

/** User directories first (GPUFLOW_RECIPES_DIR, colon-separated, then any given), then the built-in ones. */
export function recipeDirs(extra: string[] = []): string[] {
  const fromEnv = process.env.GPUFLOW_RECIPES_DIR ? process.env.GPUFLOW_RECIPES_DIR.split(':').filter(Boolean) : [];
  return [...extra.map((d) => resolve(d)), ...fromEnv, BUILTIN_RECIPES_DIR];
}

export interface LoadedRecipe extends Recipe {
  /** The file it came from. */
  source: string;
}

export function listRecipes(dirs = recipeDirs()): LoadedRecipe[] {
  const seen = new Map<string, LoadedRecipe>();
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort()) {
      const r = loadRecipeFile(join(dir, f));
      // Earlier directories win: a user recipe shadows a built-in one of the same name.
      if (!seen.has(r.name)) seen.set(r.name, r);
    }
  }
  return [...seen.values()];
}

export function parseRecipe(doc: unknown, source = '(inline)'): LoadedRecipe {
  const r = RecipeSchema.safeParse(doc);
  if (!r.success) throw new Error(`invalid recipe ${source}:\n${r.error.issues.map((i) => `  - ${i.path.join('.') || '(recipe)'}: ${i.message}`).join('\n')}`);
  return { ...r.data, source };
}

export function loadRecipeFile(file: string): LoadedRecipe {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`invalid recipe ${file}: ${(e as Error).message}`);
  }
  return parseRecipe(doc, file);
}

export function findRecipe(name: string, dirs = recipeDirs()): LoadedRecipe {
  const all = listRecipes(dirs);
  const r = all.find((x) => x.name === name);
  if (!r) throw new Error(`recipe.name: no recipe "${name}" (known: ${all.map((x) => x.name).join(', ') || 'none'})`);
  return r;
}

/** Why a value does not fit a parameter (after coercion), or undefined when it fits. */
function checkParamValue(p: RecipeParam, v: unknown): string | undefined {
  if (typeof v !== p.type) return `must be a ${p.type} (got ${JSON.stringify(v)})`;
  if (p.enum && !p.enum.includes(v as string | number | boolean)) return `must be one of ${p.enum.map((e) => JSON.stringify(e)).join(', ')} (got ${JSON.stringify(v)})`;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return `must be a finite number (got ${v})`;
    if (p.integer && !Number.isInteger(v)) return `must be a whole number (got ${v})`;
    if (p.min !== undefined && v < p.min) return `must be >= ${p.min} (got ${v})`;
    if (p.max !== undefined && v > p.max) return `must be <= ${p.max} (got ${v})`;
  }
  if (typeof v === 'string' && p.pattern && !new RegExp(`^(?:${p.pattern})$`).test(v)) return `"${v}" does not match ${p.pattern}`;
  return undefined;
}

/** Validates parameters against the recipe's declarations; errors name the parameter and the fix. */
export function resolveParams(recipe: Recipe, given: Record<string, unknown>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  const problems: string[] = [];
  for (const key of Object.keys(given)) {
    if (!(key in recipe.params)) problems.push(`recipe.params.${key}: recipe "${recipe.name}" has no such parameter (it takes: ${Object.keys(recipe.params).join(', ') || 'none'})`);
  }
  for (const [key, p] of Object.entries(recipe.params)) {
    let v = given[key] ?? p.default;
    if (v === undefined) {
      problems.push(`recipe.params.${key}: required (${p.type}${p.description ? `: ${p.description}` : ''}${p.example !== undefined ? `; e.g. ${key}=${String(p.example)}` : ''})`);
      continue;
    }
    if (p.type === 'number' && typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) v = Number(v);
    if (p.type === 'boolean' && (v === 'true' || v === 'false')) v = v === 'true';
    if (p.type === 'string' && typeof v === 'number') v = String(v);
    const problem = checkParamValue(p, v);
    if (problem) {
      problems.push(`recipe.params.${key}: ${problem}`);
      continue;
    }
    out[key] = v as string | number | boolean;
  }
  if (problems.length) throw new Error(problems.join('\n'));
  return out;
}

export function renderCommand(recipe: Pick<Recipe, 'name' | 'command'>, params: Record<string, string | number | boolean>): string {
  return recipe.command.replace(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_m, key: string) => {
    if (!(key in params)) throw new Error(`recipe ${recipe.name}: command uses {{ ${key} }} but declares no such parameter`);
    return shellQuote(String(params[key]));
  });
}

/** The environment variable naming a volume's path for the job: GPUFLOW_VOLUME_<NAME>. */
export function volumeEnvName(name: string): string {
  return `GPUFLOW_VOLUME_${name.toUpperCase()}`;
}

/**
 * Volumes travel to the node in one environment variable the job script reads:
 * `name=kind:hostPath:mountPath:rw|ro` entries separated by spaces (hostPath "-" = the default).
 */
export function encodeVolumes(volumes: RecipeVolume[]): string {
  return volumes.map((v) => `${v.name}=${v.kind}:${v.hostPath ?? '-'}:${v.mountPath}:${v.readOnly ? 'ro' : 'rw'}`).join(' ');
}

/** Disk the volumes need on the instance: ephemeral and default-located persistent volumes live on its disk. */
export function volumesDiskGiB(volumes: RecipeVolume[]): number {
  return volumes.filter((v) => v.kind === 'ephemeral' || (v.kind === 'persistent' && !v.hostPath)).reduce((s, v) => s + (v.sizeGiB ?? 0), 0);
}

/**
 * Expands `recipe: {name, params}` in a raw spec into a full spec: recipe defaults first, the
 * user's fields over them, and the rendered command. Specs without a recipe pass through.
 */
export function expandRecipe(raw: Record<string, unknown>, dirs = recipeDirs()): Record<string, unknown> {
  const ref = raw.recipe as { name?: unknown; params?: Record<string, unknown> } | undefined;
  if (!ref || typeof ref !== 'object' || typeof ref.name !== 'string') return raw;
  if (raw.command) return raw; // the spec schema reports "command and recipe" as an error
  return applyRecipe(findRecipe(ref.name, dirs), raw);
}

/** The recipe's spec (defaults, image, ports, volumes, rendered command) with `raw`'s fields over it. */
export function applyRecipe(recipe: Recipe, raw: Record<string, unknown>): Record<string, unknown> {
  const ref = (raw.recipe ?? {}) as { params?: Record<string, unknown> };
  const params = resolveParams(recipe, ref.params ?? {});
  const { recipe: _r, ...rest } = raw;
  const defaults = recipe.defaults as Record<string, unknown>;
  const out: Record<string, unknown> = {
    name: recipe.name,
    ...defaults,
    ...(recipe.image ? { image: recipe.image } : {}),
    ...(recipe.ports.length ? { ports: recipe.ports.map((p) => ({ port: p.port, public: p.public })) } : {}),
    ...rest,
    command: renderCommand(recipe, params),
    recipeRef: { name: recipe.name, params },
  };
  // A service recipe's health path becomes its health check, unless the user set one.
  const health = recipe.ports.find((p) => p.healthPath);
  const lifecycle = (out.lifecycle ?? {}) as { kind?: string };
  if (health && lifecycle.kind === 'service' && rest.service === undefined) {
    out.service = { ...((defaults.service as Record<string, unknown> | undefined) ?? {}), healthCheck: { port: health.port, path: health.healthPath } };
  }
  if (recipe.volumes.length) {
    const env = { ...((defaults.env as Record<string, string> | undefined) ?? {}), ...((rest.env as Record<string, string> | undefined) ?? {}) };
    out.env = { ...env, GPUFLOW_VOLUMES: encodeVolumes(recipe.volumes) };
    const disk = volumesDiskGiB(recipe.volumes);
    if (disk > 0) {
      const resources = { ...((defaults.resources as Record<string, unknown> | undefined) ?? {}), ...((rest.resources as Record<string, unknown> | undefined) ?? {}) };
      const have = typeof resources.minDiskGiB === 'number' ? resources.minDiskGiB : 0;
      out.resources = { ...resources, minDiskGiB: Math.max(have, disk) };
    }
  }
  return out;
}
