/**
 * The local cloud's catalog: regions, instance types with prices and per-region capacity, and the
 * pacing knobs. Validated with zod; loadable from YAML. Prices are decimal strings turned into
 * dinero money, never floats.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { moneyFromDecimal, toJSON, type MoneyJSON } from '../../../money/money.js';
import { byteCountIn, bytes } from '../../sdk/bytes.js';
import { parseGpuDescription } from '../../sdk/gpu.js';
import { makeGenericInstanceTypeId } from '../../sdk/ids.js';
import {
  CountryAlpha3Schema,
  ManufacturerSchema,
  type Architecture,
  type Gpu,
  type InstanceType,
  type Location,
} from '../../sdk/types.js';
import { LOCAL_PROVIDER_ID } from '../api.js';

const NAME_RE = /^[a-z0-9][a-z0-9-]*$/;

/**
 * A decimal price such as "2.49". A YAML number (2.49) is accepted and read back as the decimal it
 * was written as (its shortest representation), so `pricePerHour: 2.49` and `"2.49"` are the same.
 */
const DecimalPriceSchema = z.preprocess(
  (v) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : v),
  z
    .string({ message: 'price must be a decimal string such as "2.49"' })
    .regex(/^\d+(\.\d{1,8})?$/, 'price must be a non-negative decimal such as "2.49" (at most 8 decimals)'),
);

export const LocalRegionSchema = z
  .object({
    name: z.string().regex(NAME_RE, 'region names are lower-case letters, digits and "-", e.g. us-east'),
    description: z.string().default(''),
    country: CountryAlpha3Schema,
    priority: z.number().int().default(0),
    available: z.boolean().default(true),
  })
  .strict();
export type LocalRegion = z.infer<typeof LocalRegionSchema>;

export const LocalGpuSpecSchema = z
  .object({
    count: z.number().int().positive().optional(),
    /** Normalized model name, e.g. "H100", "RTX4090". */
    name: z.string().min(1).optional(),
    /** Memory of one GPU in GiB. */
    memoryGiB: z.number().int().positive().optional(),
    memoryDetails: z.string().optional(),
    networkDetails: z.string().optional(),
    manufacturer: ManufacturerSchema.optional(),
    /** What the fake nvidia-smi calls it, e.g. "NVIDIA H100 80GB HBM3". */
    productName: z.string().min(1).optional(),
  })
  .strict();

export const LocalInstanceTypeSpecSchema = z
  .object({
    type: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'type names are letters, digits, "_", "." and "-"'),
    /** Lambda-style GPU description, e.g. "1x H100 (80 GB SXM5)". */
    gpuDescription: z.string().min(1).optional(),
    /** Explicit GPU fields; they override what gpuDescription says. */
    gpu: LocalGpuSpecSchema.optional(),
    vcpu: z.number().int().positive(),
    memoryGiB: z.number().int().positive(),
    diskGiB: z.number().int().positive(),
    /** On-demand price per hour. */
    pricePerHour: DecimalPriceSchema,
    /** Spot price per hour; the type has a spot market only when set. */
    spotPricePerHour: DecimalPriceSchema.optional(),
    currency: z.enum(['USD', 'EUR', 'GBP']).default('USD'),
    /** Regions that offer the type → how many instances of it may exist there at once. */
    capacity: z.record(z.string(), z.number().int().nonnegative()).refine((c) => Object.keys(c).length > 0, {
      message: 'capacity must name at least one region, e.g. { us-east: 2 }',
    }),
  })
  .strict();
export type LocalInstanceTypeSpec = z.infer<typeof LocalInstanceTypeSpecSchema>;

export const LocalCatalogSchema = z
  .object({
    regions: z.array(LocalRegionSchema).min(1, 'the catalog needs at least one region'),
    instanceTypes: z.array(LocalInstanceTypeSpecSchema).min(1, 'the catalog needs at least one instance type'),
    /** How long a new (or started, or rebooted) instance stays pending before it runs. */
    bootDelayMs: z.number().int().nonnegative().default(1500),
    instancePollMs: z.number().int().positive().default(1000),
    instanceTypePollMs: z.number().int().positive().default(60_000),
    maxCreateRequestsPerMinute: z.number().int().positive().default(60),
  })
  .strict()
  .superRefine((c, ctx) => {
    const regions = new Set<string>();
    c.regions.forEach((r, i) => {
      if (regions.has(r.name)) ctx.addIssue({ code: 'custom', path: ['regions', i, 'name'], message: `duplicate region "${r.name}"` });
      regions.add(r.name);
    });
    const types = new Set<string>();
    c.instanceTypes.forEach((t, i) => {
      if (types.has(t.type)) ctx.addIssue({ code: 'custom', path: ['instanceTypes', i, 'type'], message: `duplicate instance type "${t.type}"` });
      types.add(t.type);
      for (const r of Object.keys(t.capacity)) {
        if (!regions.has(r)) {
          ctx.addIssue({
            code: 'custom',
            path: ['instanceTypes', i, 'capacity', r],
            message: `unknown region "${r}" (regions: ${[...regions].join(', ')})`,
          });
        }
      }
      try {
        resolveGpu(t);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: ['instanceTypes', i, 'gpuDescription'], message: (e as Error).message });
      }
    });
  });
export type LocalCatalog = z.output<typeof LocalCatalogSchema>;
export type LocalCatalogInput = z.input<typeof LocalCatalogSchema>;

/** A GPU of an instance type, with what nvidia-smi needs. */
export interface ResolvedGpu extends Gpu {
  productName: string;
}

/**
 * Reads a catalog's GPU description ("1x H100 (80 GB SXM5)") with the contract's GPU normalizer,
 * insisting on what a catalog must say: a count, a model and its memory.
 */
export function readGpuDescription(desc: string): { count: number; name: string; memoryGiB: number; networkDetails: string; manufacturer: Gpu['manufacturer']; memoryDetails: string } {
  const g = parseGpuDescription(desc);
  const memoryGiB = g ? byteCountIn(g.memory, 'GiB') : 0;
  if (!g || !/^\s*\d+\s*x\s/i.test(desc) || memoryGiB === 0) {
    throw new Error(`cannot read GPU description "${desc}": write it like "1x H100 (80 GB SXM5)"`);
  }
  return { count: g.count, name: g.name, memoryGiB, networkDetails: g.networkDetails, manufacturer: g.manufacturer, memoryDetails: g.memoryDetails };
}

/** The type's GPUs, or undefined for a CPU-only type. */
export function resolveGpu(t: LocalInstanceTypeSpec): ResolvedGpu | undefined {
  if (!t.gpuDescription && !t.gpu) return undefined;
  const parsed = t.gpuDescription ? readGpuDescription(t.gpuDescription) : undefined;
  const count = t.gpu?.count ?? parsed?.count;
  const name = t.gpu?.name ?? parsed?.name;
  const memoryGiB = t.gpu?.memoryGiB ?? parsed?.memoryGiB;
  if (!count || !name || !memoryGiB) {
    throw new Error(`instance type "${t.type}": give gpuDescription ("1x H100 (80 GB SXM5)") or gpu.count, gpu.name and gpu.memoryGiB`);
  }
  const networkDetails = t.gpu?.networkDetails ?? parsed?.networkDetails ?? '';
  const manufacturer = t.gpu?.manufacturer ?? parsed?.manufacturer ?? 'NVIDIA';
  return {
    count,
    memory: bytes(memoryGiB, 'GiB'),
    memoryDetails: t.gpu?.memoryDetails ?? parsed?.memoryDetails ?? '',
    networkDetails,
    manufacturer,
    name,
    type: networkDetails ? `${name}.${networkDetails}` : name,
    productName: t.gpu?.productName ?? `${manufacturer === 'NVIDIA' ? 'NVIDIA ' : ''}${name} ${memoryGiB}GB`,
  };
}

export function parseCatalog(raw: unknown, source = 'catalog'): LocalCatalog {
  const r = LocalCatalogSchema.safeParse(raw);
  if (!r.success) {
    throw new Error(`invalid local cloud ${source}:\n${r.error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n')}`);
  }
  return r.data;
}

export function loadCatalogFile(file: string): LocalCatalog {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read local cloud catalog ${file}: ${(e as Error).message}`, { cause: e });
  }
  return parseCatalog(raw, `catalog ${file}`);
}

/** The built-in catalog: three regions in three countries, four GPU types, small capacities. */
export const DEFAULT_CATALOG_INPUT: LocalCatalogInput = {
  regions: [
    { name: 'us-east', description: 'Virginia, USA', country: 'USA', priority: 0 },
    { name: 'eu-central', description: 'Frankfurt, Germany', country: 'DEU', priority: 1 },
    { name: 'eu-north', description: 'Helsinki, Finland', country: 'FIN', priority: 2 },
  ],
  instanceTypes: [
    {
      type: 'gpu_1x_h100_sxm5',
      gpuDescription: '1x H100 (80 GB SXM5)',
      gpu: { memoryDetails: 'HBM3', productName: 'NVIDIA H100 80GB HBM3' },
      vcpu: 26,
      memoryGiB: 225,
      diskGiB: 2750,
      pricePerHour: '2.49',
      spotPricePerHour: '1.29',
      capacity: { 'us-east': 2, 'eu-central': 1 },
    },
    {
      type: 'gpu_1x_a100_sxm4',
      gpuDescription: '1x A100 (40 GB SXM4)',
      gpu: { memoryDetails: 'HBM2e', productName: 'NVIDIA A100-SXM4-40GB' },
      vcpu: 30,
      memoryGiB: 200,
      diskGiB: 512,
      pricePerHour: '1.29',
      spotPricePerHour: '0.69',
      capacity: { 'us-east': 2, 'eu-north': 2 },
    },
    {
      type: 'gpu_1x_rtx4090',
      gpuDescription: '1x RTX 4090 (24 GB PCIe)',
      gpu: { memoryDetails: 'GDDR6X', productName: 'NVIDIA GeForce RTX 4090' },
      vcpu: 16,
      memoryGiB: 62,
      diskGiB: 500,
      pricePerHour: '0.69',
      spotPricePerHour: '0.34',
      capacity: { 'eu-central': 2, 'eu-north': 3 },
    },
    {
      type: 'gpu_1x_l4',
      gpuDescription: '1x L4 (24 GB PCIe)',
      gpu: { memoryDetails: 'GDDR6', productName: 'NVIDIA L4' },
      vcpu: 8,
      memoryGiB: 32,
      diskGiB: 250,
      pricePerHour: '0.75',
      capacity: { 'us-east': 4, 'eu-north': 2 },
    },
  ],
  bootDelayMs: 1500,
  instancePollMs: 1000,
  instanceTypePollMs: 60_000,
  maxCreateRequestsPerMinute: 60,
};

export function defaultCatalog(): LocalCatalog {
  return parseCatalog(DEFAULT_CATALOG_INPUT, 'built-in catalog');
}

export function hostArchitecture(): Architecture {
  return process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'arm64' : 'unknown';
}

export function price(decimal: string, currency: string): MoneyJSON {
  return toJSON(moneyFromDecimal(decimal, currency));
}

export function findType(catalog: LocalCatalog, type: string): LocalInstanceTypeSpec | undefined {
  return catalog.instanceTypes.find((t) => t.type === type);
}

export function findRegion(catalog: LocalCatalog, name: string): LocalRegion | undefined {
  return catalog.regions.find((r) => r.name === name);
}

export function locationsOf(catalog: LocalCatalog, endpoint?: string): Location[] {
  return catalog.regions.map((r) => ({
    name: r.name,
    description: r.description,
    available: r.available,
    ...(endpoint ? { endpoint } : {}),
    priority: r.priority,
    country: r.country,
  }));
}

/** One InstanceType per (type, region that offers it), in catalog order. */
export function instanceTypesOf(
  catalog: LocalCatalog,
  isAvailable: (type: LocalInstanceTypeSpec, region: LocalRegion) => boolean,
): InstanceType[] {
  const arch = hostArchitecture();
  const out: InstanceType[] = [];
  for (const t of catalog.instanceTypes) {
    const gpu = resolveGpu(t);
    for (const region of catalog.regions) {
      if (!(region.name in t.capacity)) continue;
      const { productName: _productName, ...contractGpu } = gpu ?? ({} as ResolvedGpu);
      out.push({
        id: makeGenericInstanceTypeId({ location: region.name, type: t.type }),
        location: region.name,
        availableAzs: [],
        subLocation: '',
        type: t.type,
        supportedGpus: gpu ? [contractGpu] : [],
        supportedStorage: [
          { count: 1, size: bytes(t.diskGiB, 'GiB'), type: 'local-ssd', isEphemeral: false, isAdditionalDisk: false, isElastic: false },
        ],
        memory: bytes(t.memoryGiB, 'GiB'),
        vcpu: t.vcpu,
        supportedArchitectures: [arch],
        supportedUsageClasses: t.spotPricePerHour !== undefined ? ['on-demand', 'spot'] : ['on-demand'],
        stoppable: true,
        rebootable: true,
        preemptible: t.spotPricePerHour !== undefined,
        isAvailable: region.available && isAvailable(t, region),
        basePrice: price(t.pricePerHour, t.currency),
        ...(t.spotPricePerHour !== undefined ? { spotPrice: price(t.spotPricePerHour, t.currency) } : {}),
        estimatedDeployTimeMs: catalog.bootDelayMs,
        provider: LOCAL_PROVIDER_ID,
        cloud: LOCAL_PROVIDER_ID,
        canModifyFirewallRules: false,
      });
    }
  }
  return out;
}
