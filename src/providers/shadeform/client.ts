/**
 * The Shadeform adapter: the provider contract over Shadeform's API v1 (one API over many clouds).
 *
 * - Catalog: `GET /instances/types` lists (cloud, shade_instance_type) with per-region availability;
 *   each (type, region) becomes one contract instance type. Types are `{cloud}_{shade_instance_type}`
 *   and IDs `{cloud}_{shade_instance_type}_{region}` (Brev's format, e.g. verda_B200_helsinki-finland-5).
 *   Regions come from the same listing (Shadeform has no regions endpoint); countries from ./regions.ts.
 * - Identity: Shadeform has tags (strings); refId and the credential's refId are stored as
 *   `key=value` tags (Brev's encoding) and read back. The SSH key is registered once per public key
 *   (named after its fingerprint) and passed as ssh_key_id, so keys do not pile up per instance.
 * - Create is asynchronous on Shadeform's side: the instance starts in `creating`.
 * - No spot, no stop/start, no rate limits documented. Errors: see ./http.ts.
 */
import { createHash } from 'node:crypto';
import { moneyFromMinor, toJSON } from '../../money/money.js';
import { bytes } from '../sdk/bytes.js';
import type { Capability } from '../sdk/capabilities.js';
import type { CloudClient } from '../sdk/client.js';
import { invalidArgs, isInstanceSelectedByArgs } from '../sdk/clientArgs.js';
import { CredentialBoundClient } from '../sdk/credentialBoundClient.js';
import { AuthenticationError, InstanceNotFoundError, InvalidRequestError, isCloudError } from '../sdk/errors.js';
import { gpuType, hostArchitectureForGpu, normalizeGpuName } from '../sdk/gpu.js';
import {
  CreateInstanceAttrsSchema,
  GetInstanceTypesArgsSchema,
  isAllLocations,
  isSelectedByArgs,
  ListInstancesArgsSchema,
  TagsSchema,
  type CreateInstanceAttrs,
  type GetInstanceTypesArgs,
  type Gpu,
  type Instance,
  type InstanceStatus,
  type InstanceType,
  type ListInstancesArgs,
  type Location,
  type Manufacturer,
  type Tags,
} from '../sdk/types.js';
import {
  SHADEFORM_PROVIDER_ID,
  ShadeformAddSshKeyResponseSchema,
  ShadeformCreateResponseSchema,
  ShadeformInstanceSchema,
  ShadeformInstancesResponseSchema,
  ShadeformInstanceTypesResponseSchema,
  ShadeformSshKeysResponseSchema,
  type ShadeformCreateRequest,
  type ShadeformInstanceTypeWire,
  type ShadeformInstanceWire,
} from './api.js';
import type { ShadeformCredential } from './credential.js';
import { callShadeform, type ShadeformHttpTarget } from './http.js';
import { shadeformRegionCountry } from './regions.js';

/**
 * Exactly what this adapter implements. Not: stop-start (no API), modify-firewall and
 * instance-userdata (Shadeform's launch_configuration script is not wired), create-instance-idempotent
 * (create takes no idempotency key).
 */
export const SHADEFORM_CAPABILITIES: readonly Capability[] = [
  'create-instance',
  'terminate-instance',
  'create-terminate-instance',
  'tags',
  'reboot-instance',
];

/** Tags the adapter writes and reads back. */
export const SHADEFORM_TAGS = {
  refId: 'gpuflow-ref-id',
  cloudCredRefId: 'gpuflow-cloud-cred-ref-id',
} as const;

const enc = encodeURIComponent;

// --- mapping (pure, exported for tests) -----------------------------------------------------------

export function shadeformStatus(status: string, details?: string | null): InstanceStatus {
  const messages = details ? [details] : [];
  switch (status) {
    case 'creating':
    case 'pending_provider':
    case 'pending':
      return { lifecycleStatus: 'pending', messages };
    case 'active':
      return { lifecycleStatus: 'running', messages };
    case 'error':
      return { lifecycleStatus: 'failed', messages: messages.length ? messages : ['shadeform reports an error'] };
    case 'deleting':
      return { lifecycleStatus: 'terminating', messages };
    case 'deleted':
      return { lifecycleStatus: 'terminated', messages };
    default:
      return { lifecycleStatus: 'pending', messages: [...messages, `unknown shadeform status "${status}"`] };
  }
}

/** `{cloud}_{shade_instance_type}`: the contract's instance type name. */
export function shadeformTypeName(cloud: string, shadeInstanceType: string): string {
  return `${cloud}_${shadeInstanceType}`;
}

/** `{cloud}_{shade_instance_type}_{region}`: unique across regions and stable. */
export function shadeformTypeId(cloud: string, shadeInstanceType: string, region: string): string {
  return `${shadeformTypeName(cloud, shadeInstanceType)}_${region}`;
}

/** Splits a contract type name at the first "_" (cloud names have none; shade types may). */
export function splitShadeformType(type: string): { cloud: string; shadeInstanceType: string } | undefined {
  const i = type.indexOf('_');
  if (i <= 0 || i === type.length - 1) return undefined;
  return { cloud: type.slice(0, i), shadeInstanceType: type.slice(i + 1) };
}

const INTERCONNECTS: Record<string, string> = { PCIE: 'PCIe', NVLINK: 'NVLink', NVL: 'NVL', SXM: 'SXM', SXM2: 'SXM2', SXM3: 'SXM3', SXM4: 'SXM4', SXM5: 'SXM5', SXM6: 'SXM6' };
const MANUFACTURERS: Record<string, Manufacturer> = { NVIDIA: 'NVIDIA', AMD: 'AMD', INTEL: 'Intel' };

export function shadeformGpu(c: { num_gpus: number; gpu_type: string; interconnect: string; vram_per_gpu_in_gb: number; gpu_manufacturer: string }): Gpu | undefined {
  if (c.num_gpus <= 0) return undefined;
  const n = normalizeGpuName(c.gpu_type); // "A100_80G" → A100 (80 GiB), "A6000" → RTXA6000
  if (!n.name) return undefined;
  const ic = c.interconnect.trim();
  const networkDetails = ic ? (INTERCONNECTS[ic.toUpperCase()] ?? ic) : n.networkDetails;
  return {
    count: c.num_gpus,
    memory: bytes(c.vram_per_gpu_in_gb || n.memoryGiB || 0, 'GiB'),
    memoryDetails: n.memoryDetails,
    networkDetails,
    manufacturer: MANUFACTURERS[c.gpu_manufacturer.trim().toUpperCase()] ?? n.manufacturer,
    name: n.name,
    type: gpuType(n.name, networkDetails),
  };
}

/** Shadeform's partner marketplace shows as cloud "excesssupply": that is Shadeform itself (Brev). */
function cloudLabel(cloud: string): string {
  return cloud === 'excesssupply' ? SHADEFORM_PROVIDER_ID : cloud;
}

function deployTimeMs(t: ShadeformInstanceTypeWire): number | undefined {
  const min = t.boot_time?.min_boot_in_sec ?? undefined;
  const max = t.boot_time?.max_boot_in_sec ?? undefined;
  if (min !== undefined && max !== undefined) return Math.round(((min + max) / 2) * 1000);
  const one = min ?? max;
  return one !== undefined ? one * 1000 : undefined;
}

/** One contract instance type per (Shadeform type, region); regions with no known country are left out. */
export function shadeformInstanceTypes(types: ShadeformInstanceTypeWire[]): InstanceType[] {
  const out: InstanceType[] = [];
  for (const t of types) {
    const gpu = shadeformGpu(t.configuration);
    const arch = (gpu && hostArchitectureForGpu(gpu.name)) ?? 'x86_64';
    const deploy = deployTimeMs(t);
    for (const a of t.availability) {
      if (!shadeformRegionCountry(a.region, a.display_name)) continue;
      out.push({
        id: shadeformTypeId(t.cloud, t.shade_instance_type, a.region),
        location: a.region,
        availableAzs: [],
        subLocation: '',
        type: shadeformTypeName(t.cloud, t.shade_instance_type),
        supportedGpus: gpu ? [gpu] : [],
        supportedStorage: [
          { count: 1, size: bytes(t.configuration.storage_in_gb, 'GB'), type: 'ssd', isEphemeral: false, isAdditionalDisk: false, isElastic: false },
        ],
        memory: bytes(t.configuration.memory_in_gb, 'GiB'),
        vcpu: t.configuration.vcpus,
        supportedArchitectures: [arch],
        supportedUsageClasses: ['on-demand'],
        stoppable: false,
        rebootable: true,
        preemptible: false,
        isAvailable: a.available,
        basePrice: toJSON(moneyFromMinor(t.hourly_price, 'USD')),
        ...(deploy !== undefined ? { estimatedDeployTimeMs: deploy } : {}),
        provider: SHADEFORM_PROVIDER_ID,
        cloud: cloudLabel(t.cloud),
        canModifyFirewallRules: false,
      });
    }
  }
  return out;
}

/** Regions from the catalog's availability lists; a region is available if any type is available there. */
export function shadeformLocations(types: ShadeformInstanceTypeWire[]): Location[] {
  const byName = new Map<string, Location>();
  for (const t of types) {
    for (const a of t.availability) {
      const country = shadeformRegionCountry(a.region, a.display_name);
      if (!country) continue;
      const seen = byName.get(a.region);
      if (seen) seen.available ||= a.available;
      else byName.set(a.region, { name: a.region, description: a.display_name, available: a.available, priority: 0, country });
    }
  }
  return [...byName.values()].sort((x, y) => x.name.localeCompare(y.name));
}

/** "key=value" strings → tags (Brev's encoding); a string without "=" is a key with an empty value. */
export function parseShadeformTags(tags: readonly string[] | null | undefined): Tags {
  const out: Tags = {};
  for (const t of tags ?? []) {
    const i = t.indexOf('=');
    if (i < 0) out[t] = '';
    else out[t.slice(0, i)] = t.slice(i + 1);
  }
  return out;
}

export function encodeShadeformTags(tags: Tags): string[] {
  const bad = Object.keys(tags).filter((k) => k.includes('=') || k.length === 0);
  if (bad.length) throw new InvalidRequestError(`shadeform: tag keys must be non-empty and must not contain "=": ${bad.map((k) => JSON.stringify(k)).join(', ')}`);
  return Object.entries(tags).map(([k, v]) => `${k}=${v}`);
}

/** A real timestamp, or undefined for absent ones and Go's zero time ("0001-01-01T00:00:00Z"). */
function realTime(s: string | null | undefined): string | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isFinite(t) && t > 0 ? new Date(t).toISOString() : undefined;
}

export function shadeformInstance(w: ShadeformInstanceWire, opts: { testReplica: boolean }): Instance {
  const tags = parseShadeformTags(w.tags);
  const status = shadeformStatus(w.status, w.status_details);
  const deletedAt = status.lifecycleStatus === 'terminated' ? realTime(w.deleted_at) : undefined;
  return {
    name: w.name,
    refId: tags[SHADEFORM_TAGS.refId] || w.id,
    cloudCredRefId: tags[SHADEFORM_TAGS.cloudCredRefId] || 'unknown',
    createdAt: realTime(w.created_at) ?? new Date(0).toISOString(),
    cloudId: w.id,
    publicIp: w.ip ?? '',
    publicDns: '',
    privateIp: '',
    hostname: '',
    imageId: w.configuration.os,
    instanceType: shadeformTypeName(w.cloud, w.shade_instance_type),
    instanceTypeId: shadeformTypeId(w.cloud, w.shade_instance_type, w.region),
    diskSize: bytes(w.configuration.storage_in_gb, 'GB'),
    sshUser: w.ssh_user ?? '',
    sshPort: w.ssh_port ?? 0,
    status,
    spot: false,
    firewallRules: { ingressRules: [], egressRules: [] },
    location: w.region,
    subLocation: '',
    tags,
    stoppable: false,
    rebootable: true,
    isContainer: false,
    notPrivileged: opts.testReplica ? (w.gpuflow_replica?.not_privileged ?? false) : false,
    ...(deletedAt ? { terminatedAt: deletedAt } : {}),
  };
}

function keyBody(k: string): string {
  return k.trim().split(/\s+/).slice(0, 2).join(' ');
}

/** The name the adapter registers a public key under: stable per key, so one key serves every instance. */
export function sshKeyNameFor(publicKey: string): string {
  return `gpuflow-${createHash('sha256').update(keyBody(publicKey)).digest('hex').slice(0, 16)}`;
}

// --- the client -----------------------------------------------------------------------------------

export class ShadeformClient extends CredentialBoundClient<ShadeformCredential> implements CloudClient {
  /** Private: it holds the API key. */
  readonly #target: ShadeformHttpTarget;

  constructor(credential: ShadeformCredential, location: string) {
    super(credential, location);
    this.#target = credential.httpTarget();
  }

  // --- catalog ----------------------------------------------------------------------------------

  private async types(query: [string, string][] = []): Promise<ShadeformInstanceTypeWire[]> {
    return (await callShadeform(this.#target, 'GET', '/instances/types', ShadeformInstanceTypesResponseSchema, { op: 'catalog', query })).instance_types;
  }

  async getLocations(args?: { includeUnavailable?: boolean }): Promise<Location[]> {
    const locs = shadeformLocations(await this.types());
    return args?.includeUnavailable ? locs : locs.filter((l) => l.available);
  }

  async getInstanceTypes(args: GetInstanceTypesArgs = {}): Promise<InstanceType[]> {
    const parsed = GetInstanceTypesArgsSchema.safeParse(args);
    if (!parsed.success) throw invalidArgs('getInstanceTypes', parsed.error);
    const a = parsed.data;
    // Shadeform filters by one region server-side; several regions are filtered here.
    const query: [string, string][] = !isAllLocations(a.locations) && a.locations!.length === 1 ? [['region', a.locations![0]]] : [];
    return shadeformInstanceTypes(await this.types(query)).filter((it) => isSelectedByArgs(it, a));
  }

  getInstanceTypePollTimeMs(): number {
    return 60_000;
  }

  // --- instances: reads -------------------------------------------------------------------------

  private toInstance(w: ShadeformInstanceWire): Instance {
    return shadeformInstance(w, { testReplica: this.credential.testReplica });
  }

  /** Shadeform answers only for instances not yet deleted; a deleted one is InstanceNotFoundError. */
  async getInstance(cloudId: string): Promise<Instance> {
    return this.toInstance(await callShadeform(this.#target, 'GET', `/instances/${enc(cloudId)}/info`, ShadeformInstanceSchema, { op: 'instance' }));
  }

  async listInstances(args: ListInstancesArgs = {}): Promise<Instance[]> {
    const parsed = ListInstancesArgsSchema.safeParse(args);
    if (!parsed.success) throw invalidArgs('listInstances', parsed.error);
    const a = parsed.data;
    if (a.instanceIds && a.instanceIds.length === 0) return [];
    const all = (await callShadeform(this.#target, 'GET', '/instances', ShadeformInstancesResponseSchema, { op: 'instance' })).instances.map((w) => this.toInstance(w));
    return all.filter((i) => isInstanceSelectedByArgs(i, a));
  }

  getInstancePollTimeMs(): number {
    return this.credential.instancePollMs;
  }

  // --- instances: lifecycle ---------------------------------------------------------------------

  /** The ID of an account SSH key holding `publicKey`, registering it when there is none. */
  private async sshKeyId(publicKey: string): Promise<string> {
    const find = async () => (await callShadeform(this.#target, 'GET', '/sshkeys', ShadeformSshKeysResponseSchema, { op: 'ssh-key' })).ssh_keys;
    const name = sshKeyNameFor(publicKey);
    const have = (await find()).find((k) => keyBody(k.public_key) === keyBody(publicKey));
    if (have) return have.id;
    try {
      return (await callShadeform(this.#target, 'POST', '/sshkeys/add', ShadeformAddSshKeyResponseSchema, { op: 'ssh-key', body: { name, public_key: publicKey.trim() } })).id;
    } catch (e) {
      // Another create registered it meanwhile ("name must be unique").
      if (!(e instanceof InvalidRequestError)) throw e;
      const again = (await find()).find((k) => k.name === name && keyBody(k.public_key) === keyBody(publicKey));
      if (again) return again.id;
      throw e;
    }
  }

  async createInstance(attrs: CreateInstanceAttrs): Promise<Instance> {
    const parsed = CreateInstanceAttrsSchema.safeParse(attrs);
    if (!parsed.success) throw invalidArgs('createInstance', parsed.error);
    const a = parsed.data;
    if (a.useSpot) throw new InvalidRequestError('shadeform: the API has no spot or interruptible instances');
    if (a.userDataBase64) throw new InvalidRequestError('shadeform: user data is not supported by this adapter');
    if (a.firewallRules.ingressRules.length > 0 || a.firewallRules.egressRules.length > 0) {
      throw new InvalidRequestError('shadeform: firewall rules at create are not supported by this adapter (gpuflow applies the host firewall over SSH at bootstrap)');
    }
    if (a.subLocation) throw new InvalidRequestError(`shadeform: regions have no sub-locations (got "${a.subLocation}")`);
    const split = splitShadeformType(a.instanceType);
    if (!split) throw new InvalidRequestError(`shadeform: instance type "${a.instanceType}" is not {cloud}_{shade_instance_type}`);
    const credRefId = this.getReferenceId();
    const tags = encodeShadeformTags({ ...a.tags, [SHADEFORM_TAGS.refId]: a.refId, [SHADEFORM_TAGS.cloudCredRefId]: credRefId });
    const sshKeyId = await this.sshKeyId(a.publicKey);
    const body: ShadeformCreateRequest = {
      cloud: split.cloud,
      region: a.location,
      shade_instance_type: split.shadeInstanceType,
      shade_cloud: true,
      name: a.name || a.refId,
      ssh_key_id: sshKeyId,
      tags,
      ...(a.imageId ? { os: a.imageId } : {}),
      ...(Object.keys(a.additionalEnvVars).length ? { envs: Object.entries(a.additionalEnvVars).map(([name, value]) => ({ name, value })) } : {}),
    };
    const startedAt = new Date();
    const { id } = await callShadeform(this.#target, 'POST', '/instances/create', ShadeformCreateResponseSchema, { op: 'create', body });
    try {
      return await this.getInstance(id);
    } catch (e) {
      if (e instanceof AuthenticationError) throw e;
      // Created: never report a failure for an instance that exists; the caller polls for the rest.
      this.#target.logger?.debug({ id, err: isCloudError(e) ? e.message : String(e) }, 'shadeform: reading the created instance failed; returning what the create said');
      return {
        name: body.name,
        refId: a.refId,
        cloudCredRefId: credRefId,
        createdAt: startedAt.toISOString(),
        cloudId: id,
        publicIp: '',
        publicDns: '',
        privateIp: '',
        hostname: '',
        imageId: a.imageId,
        instanceType: a.instanceType,
        instanceTypeId: shadeformTypeId(split.cloud, split.shadeInstanceType, a.location),
        sshUser: '',
        sshPort: 0,
        status: { lifecycleStatus: 'pending', messages: ['created; details not read yet'] },
        spot: false,
        firewallRules: { ingressRules: [], egressRules: [] },
        location: a.location,
        subLocation: '',
        tags: parseShadeformTags(tags),
        stoppable: false,
        rebootable: true,
        isContainer: false,
        notPrivileged: this.credential.testReplica,
      };
    }
  }

  /** Idempotent: a deleted or unknown instance is fine. */
  async terminateInstance(cloudId: string): Promise<void> {
    try {
      await callShadeform(this.#target, 'POST', `/instances/${enc(cloudId)}/delete`, undefined, { op: 'instance' });
    } catch (e) {
      if (e instanceof InstanceNotFoundError) return;
      throw e;
    }
  }

  getMaxCreateRequestsPerMinute(): number {
    return 10;
  }

  /** Shadeform keeps the instance `active` during a restart; SSH comes back when the machine has. */
  async rebootInstance(cloudId: string): Promise<void> {
    await callShadeform(this.#target, 'POST', `/instances/${enc(cloudId)}/restart`, undefined, { op: 'instance' });
  }

  /** Merges into the instance's tags (`POST /instances/{id}/update` replaces the list). Our identity tags cannot be changed. */
  async updateInstanceTags(args: { instanceId: string; tags: Tags }): Promise<void> {
    const t = TagsSchema.safeParse(args.tags);
    if (!t.success) throw invalidArgs('updateInstanceTags', t.error);
    const current = parseShadeformTags(
      (await callShadeform(this.#target, 'GET', `/instances/${enc(args.instanceId)}/info`, ShadeformInstanceSchema, { op: 'instance' })).tags,
    );
    const own = Object.fromEntries(Object.values(SHADEFORM_TAGS).filter((k) => current[k] !== undefined).map((k) => [k, current[k]]));
    const merged = encodeShadeformTags({ ...current, ...t.data, ...own });
    await callShadeform(this.#target, 'POST', `/instances/${enc(args.instanceId)}/update`, undefined, { op: 'instance', body: { tags: merged } });
  }
}
