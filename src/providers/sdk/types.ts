/**
 * The provider contract's data types (a TypeScript port of Brev Cloud SDK v1), as zod schemas so
 * every adapter's output can be validated at the boundary. All values are JSON-safe: they cross
 * activity boundaries and land in workflow history.
 */
import { z } from 'zod';
import { MoneySchema } from '../../money/money.js';
import { BytesSchema } from './bytes.js';
import { isAlpha3 } from './country.js';

export const LIFECYCLE_STATUSES = [
  'pending',
  'running',
  'stopping',
  'stopped',
  'suspending',
  'suspended',
  'terminating',
  'terminated',
  'failed',
] as const;
export const LifecycleStatusSchema = z.enum(LIFECYCLE_STATUSES);
export type LifecycleStatus = z.infer<typeof LifecycleStatusSchema>;

export const ArchitectureSchema = z.enum(['x86_64', 'arm64', 'unknown']);
export type Architecture = z.infer<typeof ArchitectureSchema>;

export const ManufacturerSchema = z.enum(['NVIDIA', 'AMD', 'Intel', 'unknown']);
export type Manufacturer = z.infer<typeof ManufacturerSchema>;

export const CountryAlpha3Schema = z
  .string()
  .refine(isAlpha3, { message: 'country must be an upper-case ISO 3166-1 alpha-3 code such as USA or DEU' });

export const LocationSchema = z.object({
  /** The provider's location ID, e.g. "us-west-1". */
  name: z.string().min(1),
  description: z.string(),
  available: z.boolean(),
  endpoint: z.string().optional(),
  priority: z.number().int().default(0),
  country: CountryAlpha3Schema,
});
export type Location = z.infer<typeof LocationSchema>;

export const GpuSchema = z.object({
  count: z.number().int().positive(),
  /** Memory of one GPU. */
  memory: BytesSchema,
  /** "HBM3", "GDDR6"... when known. */
  memoryDetails: z.string().default(''),
  /** Interconnect / form factor: "SXM5", "PCIe", "NVLink"... when known. */
  networkDetails: z.string().default(''),
  manufacturer: ManufacturerSchema,
  /** Normalized model name: "H100", "A100", "RTX4090". */
  name: z.string().min(1),
  /** name + "." + networkDetails, or name. */
  type: z.string().min(1),
});
export type Gpu = z.infer<typeof GpuSchema>;

export const StorageSchema = z.object({
  count: z.number().int().nonnegative(),
  size: BytesSchema,
  type: z.string(),
  minSize: BytesSchema.optional(),
  maxSize: BytesSchema.optional(),
  pricePerGbHour: MoneySchema.optional(),
  isEphemeral: z.boolean().default(false),
  isAdditionalDisk: z.boolean().default(false),
  isElastic: z.boolean().default(false),
});
export type Storage = z.infer<typeof StorageSchema>;

export const UsageClassSchema = z.enum(['on-demand', 'spot']);

export const InstanceTypeSchema = z.object({
  /** Unique across locations and stable across calls. */
  id: z.string().min(1),
  location: z.string().min(1),
  availableAzs: z.array(z.string()).default([]),
  subLocation: z.string().default(''),
  /** The provider's instance type name, e.g. "gpu_8x_a100_80gb_sxm4". */
  type: z.string().min(1),
  supportedGpus: z.array(GpuSchema),
  supportedStorage: z.array(StorageSchema).default([]),
  memory: BytesSchema,
  vcpu: z.number().int().nonnegative(),
  supportedArchitectures: z.array(ArchitectureSchema).min(1),
  supportedUsageClasses: z.array(UsageClassSchema).min(1),
  stoppable: z.boolean(),
  rebootable: z.boolean(),
  preemptible: z.boolean(),
  isAvailable: z.boolean(),
  /** On-demand price per hour. */
  basePrice: MoneySchema.optional(),
  /** Spot price per hour, when the type has a spot market. */
  spotPrice: MoneySchema.optional(),
  estimatedDeployTimeMs: z.number().int().nonnegative().optional(),
  provider: z.string().min(1),
  cloud: z.string().optional(),
  canModifyFirewallRules: z.boolean().default(false),
});
export type InstanceType = z.infer<typeof InstanceTypeSchema>;

export const FirewallRuleSchema = z.object({
  /** Ignored on create. */
  id: z.string().optional(),
  fromPort: z.number().int().min(1).max(65535),
  toPort: z.number().int().min(1).max(65535),
  ipRanges: z.array(z.string()).default([]),
}).refine((r) => r.fromPort <= r.toPort, { message: 'fromPort must be <= toPort' });
export type FirewallRule = z.infer<typeof FirewallRuleSchema>;

export const FirewallRulesSchema = z.object({
  ingressRules: z.array(FirewallRuleSchema).default([]),
  egressRules: z.array(FirewallRuleSchema).default([]),
});
export type FirewallRules = z.infer<typeof FirewallRulesSchema>;

export const TagsSchema = z.record(z.string(), z.string());
export type Tags = z.infer<typeof TagsSchema>;

export const InstanceStatusSchema = z.object({
  lifecycleStatus: LifecycleStatusSchema,
  messages: z.array(z.string()).default([]),
  /** Why the instance stopped or ended when the workload did not ask for it (e.g. spot preemption). */
  interruption: z.enum(['preempted', 'host-failure']).optional(),
});
export type InstanceStatus = z.infer<typeof InstanceStatusSchema>;

export const InstanceSchema = z.object({
  name: z.string(),
  refId: z.string().min(1),
  cloudCredRefId: z.string().min(1),
  createdAt: z.iso.datetime(),
  /** The provider's instance ID. */
  cloudId: z.string().min(1),
  publicIp: z.string().default(''),
  publicDns: z.string().default(''),
  privateIp: z.string().default(''),
  hostname: z.string().default(''),
  imageId: z.string().default(''),
  instanceType: z.string().min(1),
  instanceTypeId: z.string().min(1),
  diskSize: BytesSchema.optional(),
  sshUser: z.string().default(''),
  sshPort: z.number().int().nonnegative().default(0),
  status: InstanceStatusSchema,
  spot: z.boolean(),
  firewallRules: FirewallRulesSchema.default({ ingressRules: [], egressRules: [] }),
  location: z.string().min(1),
  subLocation: z.string().default(''),
  tags: TagsSchema.default({}),
  stoppable: z.boolean(),
  rebootable: z.boolean(),
  isContainer: z.boolean().default(false),
  /** The SSH user cannot change host firewall or kernel state (e.g. shared hosts, containers). */
  notPrivileged: z.boolean().default(false),
  /** When the provider reports it ended. */
  terminatedAt: z.iso.datetime().optional(),
});
export type Instance = z.infer<typeof InstanceSchema>;

export const CreateInstanceAttrsSchema = z.object({
  location: z.string().min(1),
  subLocation: z.string().default(''),
  name: z.string().default(''),
  /** Required: the idempotency key. A repeated create with the same refId returns the same instance. */
  refId: z.string({ error: 'refId is required: it makes create idempotent' }).min(1, 'refId is required: it makes create idempotent'),
  publicKey: z.string().regex(/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+/, 'publicKey must be an OpenSSH public key line'),
  imageId: z.string().default(''),
  instanceType: z.string().min(1),
  userDataBase64: z.string().default(''),
  diskSize: BytesSchema.optional(),
  tags: TagsSchema.default({}),
  firewallRules: FirewallRulesSchema.default({ ingressRules: [], egressRules: [] }),
  useSpot: z.boolean().default(false),
  additionalEnvVars: z.record(z.string(), z.string()).default({}),
});
export type CreateInstanceAttrs = z.input<typeof CreateInstanceAttrsSchema>;

/** `["all"]` or `["*"]` means every location. */
export const LocationsFilterSchema = z.array(z.string());
export type LocationsFilter = z.infer<typeof LocationsFilterSchema>;
export const ALL_LOCATIONS: LocationsFilter = ['all'];
export function isAllLocations(f: LocationsFilter | undefined): boolean {
  return !f || f.length === 0 || f.some((l) => l === 'all' || l === '*');
}

export const ListInstancesArgsSchema = z.object({
  instanceIds: z.array(z.string()).optional(),
  /** Each key must be present with one of the listed values. */
  tagFilters: z.record(z.string(), z.array(z.string())).optional(),
  locations: LocationsFilterSchema.optional(),
});
export type ListInstancesArgs = z.infer<typeof ListInstancesArgsSchema>;

const includeExclude = <T extends z.ZodTypeAny>(t: T) =>
  z.object({ include: z.array(t).optional(), exclude: z.array(t).optional() });

export const GetInstanceTypesArgsSchema = z.object({
  locations: LocationsFilterSchema.optional(),
  instanceTypes: z.array(z.string()).optional(),
  gpuManufacturerFilter: includeExclude(ManufacturerSchema).optional(),
  architectureFilter: includeExclude(ArchitectureSchema).optional(),
});
export type GetInstanceTypesArgs = z.infer<typeof GetInstanceTypesArgsSchema>;

export function isAllowedBy<T>(filter: { include?: T[] | undefined; exclude?: T[] | undefined } | undefined, value: T): boolean {
  if (!filter) return true;
  if (filter.include && !filter.include.includes(value)) return false;
  if (filter.exclude && filter.exclude.includes(value)) return false;
  return true;
}

/** The contract's selection rule: locations, then every GPU's manufacturer, then every architecture. */
export function isSelectedByArgs(it: InstanceType, args: GetInstanceTypesArgs): boolean {
  if (!isAllLocations(args.locations) && !args.locations!.includes(it.location)) return false;
  if (!it.supportedGpus.every((g) => isAllowedBy(args.gpuManufacturerFilter, g.manufacturer))) return false;
  if (!it.supportedArchitectures.every((a) => isAllowedBy(args.architectureFilter, a))) return false;
  if (args.instanceTypes && args.instanceTypes.length > 0 && !args.instanceTypes.includes(it.type)) return false;
  return true;
}

export const QuotaSchema = z.object({
  id: z.string(),
  name: z.string(),
  maximum: z.number().int(),
  current: z.number().int(),
  unit: z.string(),
});
export type Quota = z.infer<typeof QuotaSchema>;
