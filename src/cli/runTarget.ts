/**
 * What `gpuflow run` and `gpuflow schedule create` accept: a workload spec file (YAML), or the name
 * of a recipe, with `--param key=value` for the recipe's parameters; or a SkyPilot task YAML (see skypilot/task.ts).
 */
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { findRecipe, listRecipes, recipeDirs } from '../recipes/recipe.js';
import { fromSkyPilotTask, isSkyPilotTask } from '../skypilot/task.js';
import { readSpecFile, useRecipesDirs } from './cliContext.js';

export interface RunTargetOptions {
  params?: Record<string, string>;
  recipesDir?: string[] | undefined;
}

/** A raw spec (validated later by parseWorkloadSpec, which expands the recipe). */
export function loadRunTarget(target: string, opts: RunTargetOptions = {}): Record<string, unknown> {
  useRecipesDirs(opts.recipesDir);
  const params = opts.params ?? {};
  if (existsSync(target) && statSync(target).isFile()) {
    const doc = readSpecFile(target);
    // A SkyPilot task file (run/resources/file_mounts...) is translated; its errors name SkyPilot's fields.
    const spec = isSkyPilotTask(doc) ? fromSkyPilotTask(doc, target, basename(target).replace(/(\.sky)?\.ya?ml$/i, '')) : doc;
    if (Object.keys(params).length === 0) return spec;
    const recipe = spec.recipe as { name?: string; params?: Record<string, unknown> } | undefined;
    if (!recipe || typeof recipe !== 'object') throw new Error(`--param applies to recipes, and ${target} names no recipe (add recipe: { name, params })`);
    return { ...spec, recipe: { ...recipe, params: { ...(recipe.params ?? {}), ...params } } };
  }
  if (/^[a-z0-9][a-z0-9-]*$/.test(target)) {
    findRecipe(target, recipeDirs()); // a clear "no recipe X (known: ...)" before anything else
    return { recipe: { name: target, params } };
  }
  const known = listRecipes().map((r) => r.name).join(', ');
  throw new Error(`${target}: no such spec file, and not a recipe name (recipes: ${known})`);
}
