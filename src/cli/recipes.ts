/** `gpuflow recipes list|show|render`: the built-in recipes and the user's own. */
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { findRecipe, imageRegistry, listRecipes, recipeDirs, volumeEnvName, type LoadedRecipe } from '../recipes/recipe.js';
import ms from 'ms';
import { parseWorkloadSpec } from '../workload/spec.js';
import { collectList, collectParam, useRecipesDirs } from './cliContext.js';

function lifecycleOf(r: LoadedRecipe): string {
  const l = (r.defaults.lifecycle as { kind?: string } | undefined)?.kind ?? 'job';
  return l;
}

function gpuOf(r: LoadedRecipe): string {
  const g = r.defaults.gpu as { classes?: string[]; count?: unknown } | undefined;
  if (!g?.classes) return '-';
  return `${typeof g.count === 'number' ? g.count : 1}x ${g.classes.join('|')}`;
}

export function formatRecipe(r: LoadedRecipe): string {
  const lines: string[] = [];
  const row = (k: string, v: string) => lines.push(`${k.padEnd(14)}${v}`);
  row('recipe', r.name);
  row('description', r.description.trim());
  row('image', r.image ? `${r.image} (${imageRegistry(r.image)})` : '- (runs on the host)');
  row('lifecycle', lifecycleOf(r));
  row('gpu', gpuOf(r));
  const as = r.defaults.autoShutdown;
  row('autoShutdown', as === undefined ? 'off' : typeof as === 'string' ? as : JSON.stringify(as));
  row('source', r.source);
  if (r.ports.length) {
    lines.push('ports');
    for (const p of r.ports) lines.push(`  ${String(p.port).padEnd(6)} ${p.public ? 'public  ' : 'internal'} ${p.protocol}${p.name ? ` (${p.name})` : ''}${p.healthPath ? ` health ${p.healthPath}` : ''}`);
  }
  if (r.volumes.length) {
    lines.push('volumes');
    for (const v of r.volumes) {
      lines.push(`  ${v.name.padEnd(12)} ${v.kind.padEnd(10)} ${v.mountPath}${v.readOnly ? ' (ro)' : ''}${v.sizeGiB ? ` ${v.sizeGiB} GiB` : ''}  $${volumeEnvName(v.name)}${v.description ? `  ${v.description}` : ''}`);
    }
  }
  lines.push('params');
  for (const [name, p] of Object.entries(r.params)) {
    const rules = [
      p.enum ? `one of ${p.enum.join('|')}` : '',
      p.pattern ? `matches ${p.pattern}` : '',
      p.min !== undefined ? `>= ${p.min}` : '',
      p.max !== undefined ? `<= ${p.max}` : '',
      p.integer ? 'whole' : '',
    ].filter(Boolean);
    const dflt = p.default === undefined ? `REQUIRED${p.example !== undefined ? `, e.g. ${String(p.example)}` : ''}` : `default ${JSON.stringify(p.default)}`;
    lines.push(`  ${name.padEnd(22)} ${p.type.padEnd(7)} ${dflt}${rules.length ? `; ${rules.join(', ')}` : ''}`);
    if (p.description) lines.push(`  ${''.padEnd(22)} ${p.description}`);
  }
  const required = Object.entries(r.params).filter(([, p]) => p.default === undefined);
  lines.push('', `run it: gpuflow run ${r.name}${required.map(([k, p]) => ` --param ${k}=${p.example !== undefined ? JSON.stringify(String(p.example)) : '...'}`).join('')}`);
  return lines.join('\n');
}

/** Spec fields that hold a duration (milliseconds once parsed), by their dotted path. */
const DURATION_PATHS = new Set([
  'spotWait',
  'retryUntilUp',
  'autoShutdown.idleWindow',
  'autoShutdown.sampleInterval',
  'watchdog.lease',
  'service.healthCheck.interval',
  'service.healthCheck.timeout',
  'service.healthCheck.startupTimeout',
  'lifecycle.maxDuration',
  'budget.estimate',
]);

/** The rendered YAML says "10m", as a spec is written (and reads back the same), not 600000. */
export function withReadableDurations(value: unknown, path = ''): unknown {
  if (typeof value === 'number' && DURATION_PATHS.has(path)) return ms(value);
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withReadableDurations(v, path ? `${path}.${k}` : k)]));
}

export function register(program: Command): void {
  const recipes = program.command('recipes').description('reusable, parameterized workload templates (built-in and from --recipes-dir / GPUFLOW_RECIPES_DIR)');
  const dirOption = ['--recipes-dir <dir>', 'also look for recipes (*.yaml) here, before the built-in ones (repeatable)', collectList] as const;

  recipes
    .command('list')
    .description('list the recipes')
    .option(...dirOption)
    .option('--json', 'machine-readable output')
    .action((o: { recipesDir?: string[]; json?: boolean }) => {
      useRecipesDirs(o.recipesDir);
      const all = listRecipes(recipeDirs());
      if (o.json) return console.log(JSON.stringify(all));
      console.log(['RECIPE'.padEnd(18), 'LIFECYCLE'.padEnd(10), 'GPU'.padEnd(34), 'DESCRIPTION'].join(' '));
      for (const r of all) {
        const desc = r.description.trim().split(/(?<=\.)\s/)[0]!;
        console.log([r.name.padEnd(18), lifecycleOf(r).padEnd(10), gpuOf(r).padEnd(34), desc.length > 90 ? `${desc.slice(0, 87)}...` : desc].join(' '));
      }
    });

  recipes
    .command('show')
    .description("a recipe's image, command, parameters, volumes, ports and defaults")
    .argument('<name>')
    .option(...dirOption)
    .option('--json', 'machine-readable output')
    .action((name: string, o: { recipesDir?: string[]; json?: boolean }) => {
      useRecipesDirs(o.recipesDir);
      const r = findRecipe(name, recipeDirs());
      if (o.json) return console.log(JSON.stringify(r));
      console.log(formatRecipe(r));
      console.log(`\ncommand template:\n${r.command.replace(/^/gm, '  ')}`);
    });

  recipes
    .command('render')
    .description('the full workload spec a recipe and its parameters make (validated; nothing starts)')
    .argument('<name>')
    .option('-p, --param <key=value>', 'a recipe parameter (repeatable)', collectParam)
    .option(...dirOption)
    .option('--json', 'JSON instead of YAML')
    .action((name: string, o: { param?: Record<string, string>; recipesDir?: string[]; json?: boolean }) => {
      useRecipesDirs(o.recipesDir);
      const spec = parseWorkloadSpec({ recipe: { name, params: o.param ?? {} } });
      console.log(o.json ? JSON.stringify(spec) : stringify(withReadableDurations(spec)));
    });
}
