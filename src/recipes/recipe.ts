/**
 * Recipes: reusable, parameterized workload templates (YAML in recipes/ or a directory the user
 * names). A recipe supplies defaults for a workload spec and a command template whose
 * `{{ param }}` placeholders are filled with shell-quoted, validated parameter values.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { shellQuote } from '../ssh/sshClient.js';

const ParamSchema = z
  .object({
    type: z.enum(['string', 'number', 'boolean']),
    description: z.string().default(''),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
    /** For strings: a regular expression the value must match. */
    pattern: z.string().optional(),
  })
  .strict();

export const RecipeSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
    description: z.string(),
    image: z.string().optional(),
    command: z.string().min(1),
    params: z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/), ParamSchema).default({}),
    /** Workload spec defaults (gpu, spot, lifecycle, autoShutdown, ports, env...). */
    defaults: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type Recipe = z.infer<typeof RecipeSchema>;

export const BUILTIN_RECIPES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'recipes');

export function recipeDirs(): string[] {
  const extra = process.env.GPUFLOW_RECIPES_DIR ? process.env.GPUFLOW_RECIPES_DIR.split(':') : [];
  return [...extra, BUILTIN_RECIPES_DIR];
}

export function listRecipes(dirs = recipeDirs()): Recipe[] {
  const seen = new Map<string, Recipe>();
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml')).sort()) {
      const r = loadRecipeFile(join(dir, f));
      if (!seen.has(r.name)) seen.set(r.name, r);
    }
  }
  return [...seen.values()];
}

export function loadRecipeFile(file: string): Recipe {
  const r = RecipeSchema.safeParse(parseYaml(readFileSync(file, 'utf8')));
  if (!r.success) throw new Error(`invalid recipe ${file}:\n${r.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  return r.data;
}

export function findRecipe(name: string, dirs = recipeDirs()): Recipe {
  const r = listRecipes(dirs).find((x) => x.name === name);
  if (!r) throw new Error(`recipe.name: no recipe "${name}" (known: ${listRecipes(dirs).map((x) => x.name).join(', ') || 'none'})`);
  return r;
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
      problems.push(`recipe.params.${key}: required (${p.type}${p.description ? `: ${p.description}` : ''})`);
      continue;
    }
    if (p.type === 'number' && typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) v = Number(v);
    if (p.type === 'boolean' && (v === 'true' || v === 'false')) v = v === 'true';
    if (typeof v !== p.type) {
      problems.push(`recipe.params.${key}: must be a ${p.type} (got ${JSON.stringify(v)})`);
      continue;
    }
    if (p.pattern && typeof v === 'string' && !new RegExp(p.pattern).test(v)) {
      problems.push(`recipe.params.${key}: "${v}" does not match ${p.pattern}`);
      continue;
    }
    out[key] = v as string | number | boolean;
  }
  if (problems.length) throw new Error(problems.join('\n'));
  return out;
}

export function renderCommand(recipe: Recipe, params: Record<string, string | number | boolean>): string {
  return recipe.command.replace(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_m, key: string) => {
    if (!(key in params)) throw new Error(`recipe ${recipe.name}: command uses {{ ${key} }} but declares no such parameter`);
    return shellQuote(String(params[key]));
  });
}

/**
 * Expands `recipe: {name, params}` in a raw spec into a full spec: recipe defaults first, the
 * user's fields over them, and the rendered command. Specs without a recipe pass through.
 */
export function expandRecipe(raw: Record<string, unknown>, dirs = recipeDirs()): Record<string, unknown> {
  const ref = raw.recipe as { name?: unknown; params?: Record<string, unknown> } | undefined;
  if (!ref || typeof ref !== 'object' || typeof ref.name !== 'string') return raw;
  if (raw.command) return raw; // the spec schema reports "command and recipe" as an error
  const recipe = findRecipe(ref.name, dirs);
  const params = resolveParams(recipe, ref.params ?? {});
  const { recipe: _r, ...rest } = raw;
  return {
    ...recipe.defaults,
    ...(recipe.image ? { image: recipe.image } : {}),
    ...rest,
    command: renderCommand(recipe, params),
    recipeRef: { name: recipe.name, params },
  };
}
