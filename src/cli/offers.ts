/**
 * `gpuflow offers`: the cheapest offers that honour every constraint, from a SkyPilot catalog
 * directory (`--catalog DIR`) or from the worker's live provider connections; `--explain` says why
 * the others were not chosen. `gpuflow catalog seed-local`: a local-cloud catalog from a SkyPilot
 * catalog directory.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { stringify as stringifyYaml } from 'yaml';
import { collectOffers } from '../catalog/offers.js';
import { readSpecFile } from './cliContext.js';
import { readsSyncedCatalogs, registerCatalogSyncCommands, withSyncedCatalogs } from './catalog.js';
import type { SyncedCatalogs } from '../catalog/sync/syncedCatalogs.js';
import { readSkypilotCatalog } from '../catalog/skypilot/reader.js';
import { skypilotToLocalCatalog } from '../catalog/skypilot/toLocalCatalog.js';
import { loadConnections } from '../config/connections.js';
import { gpuflowHome } from '../config/paths.js';
import { ProviderRegistry } from '../providers/registry.js';
import { parseCatalog } from '../providers/local/index.js';
import { constraintsFromSpec, formatGpuCount, type GpuCountRange, type OfferConstraints } from '../routing/constraints.js';
import { summarizeRejections, type RejectionSummary } from '../routing/explain.js';
import { gpuMemoryGiB } from '../routing/gpuClass.js';
import type { Offer } from '../routing/offer.js';
import { priceKey, priceText, rankOffers, type RejectionKind } from '../routing/rankOffers.js';
import { parseWorkloadSpec } from '../workload/spec.js';

interface OffersFlags {
  gpu?: { classes: string[]; count?: number | GpuCountRange };
  spot?: string;
  region: string[];
  country: string[];
  provider: string[];
  denyProvider: string[];
  prefer: string[];
  maxPrice?: string;
  maxPricePerGpu?: string;
  minGpuMemory?: string;
  interconnect: string[];
  minVcpu?: string;
  minMemory?: string;
  minDisk?: string;
  spec?: string;
  catalog?: string;
  connections: string;
  explain?: boolean;
  live?: boolean;
  json?: boolean;
  limit?: number;
}

const collect = (v: string, prev: string[]) => [...prev, v];
const collectSplit = (v: string, prev: string[]) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

/** MODEL[|MODEL...][:COUNT] with COUNT = N, N-M or N+: "H100:8", "H100|A100:1-8", "A100-80GB", "*:8". */
export function parseGpuOption(v: string): { classes: string[]; count?: number | GpuCountRange } {
  const m = /^(.+?)(?::(\d+)(?:-(\d+)|(\+))?)?$/.exec(v.trim());
  if (!m || !m[1]) throw new InvalidArgumentError('use MODEL[:COUNT], e.g. H100:8, "H100|A100:1-8", A100-80GB:4+ or "*:8"');
  const classes = m[1].split('|').map((s) => s.trim()).filter(Boolean);
  if (!m[2]) return { classes };
  const min = Number(m[2]);
  const max = m[3] ? Number(m[3]) : m[4] ? 64 : min;
  if (min < 1 || max < min || max > 64) throw new InvalidArgumentError('GPU count must be 1-64, and a range MIN-MAX with MIN <= MAX');
  return { classes, count: min === max ? min : { min, max } };
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number (0 = no limit)');
  return n;
}

/** The constraints of the flags (over a spec file's, when --spec is given), validated like a workload spec. */
export function constraintsFromFlags(o: OffersFlags): OfferConstraints {
  const base = o.spec ? readSpecFile(o.spec) : {};
  const spec: Record<string, unknown> = { ...base, name: typeof base.name === 'string' ? base.name : 'offers' };
  if (!('recipe' in base)) spec.command = base.command ?? 'true';
  const anyCount = { min: 1, max: 64 };
  const gpu: Record<string, unknown> = o.gpu
    ? { ...((base.gpu as object | undefined) ?? {}), classes: o.gpu.classes, count: o.gpu.count ?? anyCount }
    : ((base.gpu as Record<string, unknown> | undefined) ?? { classes: ['*'], count: anyCount });
  if (o.minGpuMemory) gpu.minMemoryGiB = Number(o.minGpuMemory);
  if (o.interconnect.length) gpu.interconnect = o.interconnect;
  spec.gpu = gpu;
  if (o.spot) spec.spot = o.spot;
  const placement: Record<string, unknown> = { ...((base.placement as object | undefined) ?? {}) };
  const providers: Record<string, unknown> = { ...((placement.providers as object | undefined) ?? {}) };
  if (o.region.length) placement.regions = o.region;
  if (o.country.length) placement.countries = o.country;
  if (o.provider.length) providers.allow = o.provider;
  if (o.denyProvider.length) providers.deny = o.denyProvider;
  if (o.prefer.length) providers.prefer = o.prefer;
  placement.providers = providers;
  spec.placement = placement;
  if (o.maxPrice) spec.maxPricePerHour = o.maxPrice;
  if (o.maxPricePerGpu) spec.maxPricePerGpuHour = o.maxPricePerGpu;
  const resources: Record<string, unknown> = { ...((base.resources as object | undefined) ?? {}) };
  if (o.minVcpu) resources.minVcpu = Number(o.minVcpu);
  if (o.minMemory) resources.minMemoryGiB = Number(o.minMemory);
  if (o.minDisk) resources.minDiskGiB = Number(o.minDisk);
  if (Object.keys(resources).length) spec.resources = resources;
  return constraintsFromSpec(parseWorkloadSpec(spec));
}

/** One offer as the --json array element. */
export function offerJson(o: Offer) {
  return {
    provider: o.provider,
    connection: o.connection,
    instanceTypeId: o.instanceTypeId,
    type: o.type,
    location: o.location,
    subLocation: o.subLocation,
    country: o.country,
    gpu: o.gpu
      ? { name: o.gpu.name, count: o.gpu.count, memoryGiB: gpuMemoryGiB(o.gpu.memory), interconnect: o.gpu.networkDetails, type: o.gpu.type, manufacturer: o.gpu.manufacturer }
      : null,
    vcpu: o.vcpu,
    memoryGiB: o.memoryGiB,
    ...(o.diskGiB !== undefined ? { diskGiB: o.diskGiB } : {}),
    spot: o.spot,
    pricePerHour: priceText({ ...o.pricePerHour, currency: 'USD' }),
    currency: o.pricePerHour.currency,
    ...(o.gpu ? { pricePerGpuHour: perGpuText(o) } : {}),
    available: o.available,
    seenAt: o.seenAt,
  };
}

function perGpuText(o: Offer): string {
  const key = priceKey(o.pricePerHour) / (o.gpu?.count ?? 1);
  return priceText({ amount: Math.round(key / 1e5), currency: 'USD', scale: 4 });
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const right = new Set([0, 6, 7, 8, 10]);
  return rows.map((r) => r.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export function formatOffersTable(offers: readonly Offer[]): string {
  const rows = [['#', 'PROVIDER', 'REGION', 'COUNTRY', 'INSTANCE', 'GPU', 'MEM', 'vCPU', 'RAM', 'SPOT', 'PRICE/h']];
  offers.forEach((o, i) =>
    rows.push([
      String(i + 1),
      o.provider,
      o.subLocation ? `${o.location}/${o.subLocation}` : o.location,
      o.country,
      o.type,
      o.gpu ? `${o.gpu.count}x ${o.gpu.type}` : '-',
      o.gpu ? `${gpuMemoryGiB(o.gpu.memory)}GiB` : '-',
      String(o.vcpu),
      `${Math.round(o.memoryGiB)}GiB`,
      o.spot ? 'spot' : '-',
      `$${priceText(o.pricePerHour)}`,
    ]),
  );
  return table(rows);
}

export function formatRejections(s: RejectionSummary): string {
  const lines = [`not chosen: ${s.total} offer(s), by the first constraint they failed`];
  for (const k of s.kinds) {
    lines.push(`  ${k.kind} (${k.count})`);
    for (const r of k.reasons) {
      const e = r.examples[0];
      lines.push(`    ${String(r.count).padStart(5)}× ${r.reason}${e ? `   e.g. ${e.provider} ${e.type} ${e.location}${e.spot ? ' spot' : ''}` : ''}`);
    }
    if (k.moreReasons) lines.push(`           ... and ${k.moreReasons} more reason(s)`);
  }
  return lines.join('\n');
}

async function loadOffers(o: OffersFlags, synced?: SyncedCatalogs): Promise<{ offers: Offer[]; source: string; warnings: string[] }> {
  if (o.catalog) {
    const c = readSkypilotCatalog(o.catalog);
    const warnings = c.skipped.length ? [`${c.skipped.length} catalog row(s) skipped (first: ${c.skipped[0]!.cloud} line ${c.skipped[0]!.line}: ${c.skipped[0]!.reason})`] : [];
    return { offers: c.offers, source: `SkyPilot catalog ${o.catalog} (${c.files.map((f) => f.cloud).join(', ')})`, warnings };
  }
  const connections = loadConnections(o.connections);
  if (connections.length === 0) throw new Error(`no provider connections in ${o.connections}: run \`gpuflow dev\`, pass --connections FILE, or plan against a catalog with --catalog DIR`);
  const { offers, unreachable, sources } = await collectOffers(ProviderRegistry.fromConnections(connections), { ...(synced ? { synced } : {}) });
  return {
    offers,
    source: `catalog of ${connections.map((c) => `${c.name} (${sources[c.name] ?? 'unreachable'})`).join(', ')}`,
    warnings: unreachable.map((u) => `connection ${u.connection} unreachable: ${u.error}`),
  };
}

/** RejectionKind in the order rankOffers checks them. */
const REJECTION_ORDER: readonly RejectionKind[] = ['provider', 'gpu', 'interconnect', 'gpu-count', 'gpu-memory', 'vcpu', 'memory', 'disk', 'market', 'region', 'country', 'price', 'price-per-gpu', 'capacity', 'stale', 'blocked'];

/** Which constraint emptied the list (the one most offers failed first), and where to look next. */
export function emptyResultHint(offers: readonly Offer[], constraints: OfferConstraints, o: Pick<OffersFlags, 'catalog' | 'explain'>): string {
  if (offers.length === 0) return `nothing to choose from: the ${o.catalog ? 'catalog' : 'connections'} listed no offers${o.catalog ? '' : '; try --catalog data/skypilot-catalog (SkyPilot\'s price lists)'}`;
  const kinds = summarizeRejections(rankOffers(offers, constraints, { explain: true }).rejected, { maxReasons: 1, maxExamples: 0 }).kinds;
  // Constraints are checked in order and each offer fails at its first: the last one that rejected
  // anything took the offers that passed all before it, so dropping or widening it helps first.
  const top = kinds.reduce<(typeof kinds)[number] | undefined>((last, k) => (!last || REJECTION_ORDER.indexOf(k.kind) > REJECTION_ORDER.indexOf(last.kind) ? k : last), undefined);
  const reason = top?.reasons[0]?.reason;
  return [
    `no offer matches: ${top ? `the ${top.kind} constraint emptied the list (it ruled out the ${top.count} offer(s) that passed every earlier one${reason ? `, e.g. ${reason}` : ''})` : 'every offer was ruled out'}.`,
    o.explain ? '' : 'Add --explain to see why each was not chosen; ',
    o.catalog ? 'relax that constraint.' : 'the embedded default (`gpuflow dev`) offers a few small GPUs only: plan against real price lists with --catalog data/skypilot-catalog.',
  ].join(' ').replace(/\s+/g, ' ').trim();
}

const DEV_CONNECTIONS = join(gpuflowHome(), 'dev', 'connections.yaml');

export function registerOffersCommands(program: Command): void {
  program
    .command('offers')
    .description('the cheapest offers that honour every constraint (like `sky show-gpus` / `dstack offer`)')
    .option('--gpu <model[:count]>', 'GPU class(es) and count: H100:8, "H100|A100:1-8", "H100 SXM:8", A100-80GB:4+ (default: any GPU, any count)', parseGpuOption)
    .addOption(new Option('--spot <policy>', 'never | allow (cheapest of both markets) | only (default: the spec\'s, never)').choices(['never', 'allow', 'only']))
    .option('--region <glob>', 'region, exact or glob such as "us-*" (repeatable)', collect, [])
    .option('--country <codes>', 'ISO 3166-1 alpha-2/alpha-3 codes or groups (EU, EEA, EFTA), comma-separated or repeated', collectSplit, [])
    .option('--provider <names>', 'only these providers/connections (comma-separated or repeated)', collectSplit, [])
    .option('--deny-provider <names>', 'never these providers/connections', collectSplit, [])
    .option('--prefer <names>', 'ordered provider preference for ties on price', collectSplit, [])
    .option('--max-price <usd>', 'maximum price per instance-hour, e.g. 2.50')
    .option('--max-price-per-gpu <usd>', 'maximum price per GPU-hour')
    .option('--min-gpu-memory <GiB>', 'minimum memory per GPU')
    .option('--interconnect <kind>', 'SXM, PCIe, NVLink, SXM5... (repeatable: any of them)', collectSplit, [])
    .option('--min-vcpu <n>', 'minimum vCPUs')
    .option('--min-memory <GiB>', 'minimum RAM')
    .option('--min-disk <GiB>', 'minimum disk (offers that size disks at create pass)')
    .option('--spec <file>', 'start from a workload spec file; flags override its fields')
    .option('--catalog <dir>', 'plan against a SkyPilot catalog directory (<cloud>/vms.csv) instead of the live connections')
    .option('--connections <file>', 'connections file for the live catalog', DEV_CONNECTIONS)
    .option('--live', 'read every connection live, not its synced catalog (used when TEMPORAL_ADDRESS/--address is set or with `gpuflow dev`\'s connections)')
    .option('--explain', 'also say why every other offer was not chosen (grouped)')
    .option('--json', 'print a JSON array of the matching offers, cheapest first (with --explain: { offers, rejected })')
    .option('--limit <n>', 'show at most N offers (default 20 for the table, all for --json; 0 = all)', positiveInt)
    .action(async (o: OffersFlags, cmd: Command) => {
      const constraints = constraintsFromFlags(o);
      const { offers, source, warnings } = o.catalog || !readsSyncedCatalogs(cmd, { live: !!o.live, connectionsFile: o.connections, devConnectionsFile: DEV_CONNECTIONS })
        ? await loadOffers(o)
        : await withSyncedCatalogs(cmd, (synced) => loadOffers(o, synced));
      for (const w of warnings) console.error(`warning: ${w}`);
      const limit = o.limit ?? (o.json ? 0 : 20);
      const ranking = rankOffers(offers, constraints, { limit: limit || undefined, explain: !!o.explain });
      const summary = o.explain ? summarizeRejections(ranking.rejected, { maxReasons: 5, maxExamples: 1 }) : undefined;
      if (o.json) {
        const list = ranking.candidates.map(offerJson);
        if (!summary) return console.log(JSON.stringify(list, null, 2));
        return console.log(
          JSON.stringify(
            {
              offers: list,
              matched: ranking.matched,
              considered: offers.length,
              rejected: summary.kinds.map((k) => ({
                kind: k.kind,
                count: k.count,
                reasons: k.reasons.map((r) => ({ reason: r.reason, count: r.count, example: r.examples[0] ? offerJson(r.examples[0]) : undefined })),
                moreReasons: k.moreReasons,
              })),
            },
            null,
            2,
          ),
        );
      }
      const what = [
        constraints.gpuClasses.join('|') + (constraints.gpuCount ? `:${formatGpuCount(constraints.gpuCount)}` : ''),
        `spot ${constraints.spot}`,
      ].join(', ');
      console.log(`${ranking.matched} of ${offers.length} offers match (${what}) in the ${source}${ranking.candidates.length < ranking.matched ? `; cheapest ${ranking.candidates.length} shown` : ''}`);
      if (ranking.candidates.length) console.log(`\n${formatOffersTable(ranking.candidates)}`);
      if (summary && summary.total) console.log(`\n${formatRejections(summary)}`);
      if (ranking.matched === 0) {
        console.error(emptyResultHint(offers, constraints, o));
        process.exitCode = 1;
      }
    });

  const catalog = program.command('catalog').description('provider catalogs');
  registerCatalogSyncCommands(catalog);
  catalog
    .command('seed-local')
    .description('write a local-cloud catalog (YAML for `local-cloud --catalog`) from a SkyPilot catalog directory')
    .requiredOption('--from <dir>', 'SkyPilot catalog directory (<cloud>/vms.csv)')
    .requiredOption('--out <file>', 'catalog YAML to write')
    .option('--capacity <n>', 'instances of each type per region', positiveInt, 2)
    .option('--include-cpu', 'keep CPU-only instance types')
    .option('--cloud <names>', 'only these clouds (comma-separated or repeated)', collectSplit, [])
    .action((o: { from: string; out: string; capacity: number; includeCpu?: boolean; cloud: string[] }) => {
      const r = skypilotToLocalCatalog(o.from, { capacity: o.capacity, includeCpuOnly: !!o.includeCpu, ...(o.cloud.length ? { clouds: o.cloud } : {}) });
      const parsed = parseCatalog(r.catalog, `catalog from ${o.from}`); // validate before writing
      writeFileSync(o.out, `# local cloud catalog generated by \`gpuflow catalog seed-local --from ${o.from}\`\n${stringifyYaml(r.catalog)}`);
      console.log(`wrote ${o.out}: ${parsed.regions.length} regions, ${parsed.instanceTypes.length} instance types${r.skipped.length ? ` (${r.skipped.length} skipped)` : ''}`);
      for (const s of r.skipped.slice(0, 10)) console.error(`  skipped ${s.cloud} ${s.instanceType} ${s.region}: ${s.reason}`);
    });
}
