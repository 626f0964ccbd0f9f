/**
 * `gpuflow simulate`: replays a workload mix against a price and availability trace under several
 * policies and a hindsight oracle, with gpuflow's own routing, recovery and auto-shutdown decisions.
 * No Temporal, no providers: pure computation over files.
 */
import { readFileSync, statSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { readSkypilotCatalog } from '../catalog/skypilot/reader.js';
import { toDecimal } from '../money/money.js';
import type { Offer } from '../routing/offer.js';
import { BaseOffersSchema, changesTrace, ChangesFileSchema } from '../simulation/changesTrace.js';
import { parseMixText } from '../simulation/mix.js';
import { POLICY_NAMES, selectPolicies } from '../simulation/policies.js';
import { formatTable, runSimulation } from '../simulation/run.js';
import { skypilotTrace } from '../simulation/skypilotTrace.js';
import type { Trace } from '../simulation/trace.js';

interface SimulateFlags {
  mix: string;
  trace: string[];
  base?: string;
  seed: number;
  hours: number;
  policies: string[];
  hazardScale: number;
  json?: boolean;
}

function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`must be a whole number >= 0 (got "${v}")`);
  return n;
}

function positiveInt(v: string): number {
  const n = nonNegativeInt(v);
  if (n === 0) throw new InvalidArgumentError('must be at least 1');
  return n;
}

function positiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`must be a positive number (got "${v}")`);
  return n;
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${what} ${file} is not JSON: ${(e as Error).message}`);
  }
}

function zodText(file: string, issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues.slice(0, 5).map((i) => `${file}${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${i.message}`).join('\n');
}

/** The base catalog of a changes trace: `gpuflow offers --json` output, or a SkyPilot directory. */
function baseOffers(path: string): Offer[] {
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) return readSkypilotCatalog(path).offers;
  const r = BaseOffersSchema.safeParse(readJson(path, '--base'));
  if (!r.success) throw new Error(`--base must be the output of \`gpuflow offers --json --limit 0\` or a SkyPilot catalog directory:\n${zodText(path, r.error.issues)}`);
  return r.data;
}

export function loadTrace(o: Pick<SimulateFlags, 'trace' | 'base' | 'seed' | 'hours' | 'hazardScale'>): { trace: Trace; notes: string[] } {
  const [kind, path, ...rest] = o.trace;
  if (!kind || !path || rest.length) throw new Error('--trace takes a kind and a path: --trace skypilot DIR, or --trace changes FILE');
  const model = { hazardScale: o.hazardScale };
  if (kind === 'skypilot') return { trace: skypilotTrace(path, { seed: o.seed, hours: o.hours, model }), notes: [] };
  if (kind === 'changes') {
    if (!o.base) throw new Error('--trace changes needs --base: the catalog now (`gpuflow offers --json --limit 0 > base.json`) or a SkyPilot catalog directory');
    const r = ChangesFileSchema.safeParse(readJson(path, 'changes file'));
    if (!r.success) throw new Error(`the changes file must be the output of \`gpuflow catalog changes --json\`:\n${zodText(path, r.error.issues)}`);
    const { trace, unmatched, applied } = changesTrace(baseOffers(o.base), r.data, { seed: o.seed, hoursAfter: o.hours, model }, `catalog changes ${path} over ${o.base}, seed ${o.seed}`);
    return { trace, notes: [`${applied} change(s) replayed${unmatched ? `, ${unmatched} naming no offer of the base catalog (skipped)` : ''}`] };
  }
  throw new Error(`--trace kind "${kind}" is not known: use skypilot DIR or changes FILE`);
}

export function register(program: Command): void {
  program
    .command('simulate')
    .description('replay a workload mix against a price/availability trace: policies side by side with a hindsight oracle')
    .requiredOption('--mix <file>', 'the workload mix (YAML or JSON; see docs/simulation.md)')
    .requiredOption('--trace <kind-and-path...>', 'skypilot DIR (a generated trace over SkyPilot catalogs) or changes FILE (`gpuflow catalog changes --json` output)')
    .option('--base <file-or-dir>', 'for --trace changes: the catalog now (`gpuflow offers --json --limit 0`) or a SkyPilot directory')
    .option('--seed <n>', 'seed of the preemption and price-drift model', nonNegativeInt, 1)
    .option('--hours <n>', 'trace length (skypilot), or hours after the last change (changes)', positiveInt, 168)
    .option('--policies <names>', `comma-separated: ${POLICY_NAMES.join(', ')}, or all`, (v: string, acc: string[] = []) => [...acc, v], [])
    .option('--hazard-scale <x>', 'multiply every published interruption rate (stress test)', positiveNumber, 1)
    .option('--json', 'machine-readable output')
    .action((o: SimulateFlags) => {
      const { policies, oracle } = selectPolicies(o.policies);
      const mix = parseMixText(readFileSync(o.mix, 'utf8'), o.mix);
      const { trace, notes } = loadTrace(o);
      const result = runSimulation(mix, trace, policies, { oracle });
      if (o.json) {
        const summaries = result.summaries.map((s) => ({ ...s, cost: toDecimal(s.cost), idleWaste: toDecimal(s.idleWaste) }));
        console.log(JSON.stringify({ mix: result.mix, trace: result.trace, jobs: result.jobs, notes, summaries }, null, 2));
        return;
      }
      console.log(`mix ${result.mix}: ${result.jobs} job(s); trace: ${result.trace}; ${trace.markets.length} GPU markets${notes.length ? `; ${notes.join('; ')}` : ''}\n`);
      console.log(formatTable(result));
    });
}
