/**
 * The Lambda Cloud adapter: the provider contract over Lambda's public API v1.8.3.
 *
 * - Catalog: `GET /instance-types` gives every type once with the regions that have capacity now;
 *   the contract wants one instance type per (type, region), so each type is listed in every known
 *   region (shared/notes/brev-sdk-v1.md §6: Brev did the same), available where Lambda says so.
 * - Identity: Lambda takes SSH keys by name, so the key is registered under the instance's refId
 *   (Brev's convention, and the fallback to read refId back). refId, the credential's refId and the
 *   creation time are also written as tags (v1.8.3 has tags; Lambda has no created_at field). The
 *   instance name is the requested one, else Brev's `{credRefId}--{UTC time}`.
 * - Errors: see ./http.ts. No spot, no stop/start in Lambda's API.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { moneyFromMinor, toJSON } from '../../money/money.js';
import { bytes } from '../sdk/bytes.js';
import type { Capability } from '../sdk/capabilities.js';
import type { CloudClient } from '../sdk/client.js';
import { invalidArgs, isInstanceSelectedByArgs } from '../sdk/clientArgs.js';
import { CredentialBoundClient } from '../sdk/credentialBoundClient.js';
import { InstanceNotFoundError, InvalidRequestError, isCloudError, AuthenticationError } from '../sdk/errors.js';
import { hostArchitectureForGpu, parseGpuDescription } from '../sdk/gpu.js';
import { makeGenericInstanceTypeId, makeGenericInstanceTypeIdFromInstance } from '../sdk/ids.js';
import {
  CreateInstanceAttrsSchema,
  GetInstanceTypesArgsSchema,
  isSelectedByArgs,
  ListInstancesArgsSchema,
  type CreateInstanceAttrs,
  type GetInstanceTypesArgs,
  type Gpu,
  type Instance,
  type InstanceStatus,
  type InstanceType,
  type ListInstancesArgs,
  type Location,
  type Tags,
} from '../sdk/types.js';
import {
  LAMBDA_NAME_MAX,
  LAMBDA_PROVIDER_ID,
  LAMBDA_RATE_LIMITS,
  LAMBDA_TAG_KEY,
  LAMBDA_TAG_KEY_MAX,
  LAMBDA_TAG_VALUE_MAX,
  LAMBDA_USER_DATA_MAX_BYTES,
  LambdaInstanceSchema,
  LambdaInstanceTypesSchema,
  LambdaLaunchResponseSchema,
  LambdaRestartResponseSchema,
  LambdaSshKeySchema,
  LambdaTerminateResponseSchema,
  type LambdaInstanceTypesWire,
  type LambdaInstanceWire,
  type LambdaLaunchRequest,
  type LambdaRegionWire,
} from './api.js';
import type { LambdaCredential } from './credential.js';
import { callLambda, type LambdaHttpTarget } from './http.js';
import { LAMBDA_REGIONS, lambdaRegion, lambdaRegionCountry } from './regions.js';

/**
 * Exactly what this adapter implements against Lambda's API. Not: stop-start (the API has none),
 * tags (tags are set at launch; there is no call to change them), modify-firewall (firewall
 * rulesets are not wired), create-instance-idempotent (launch takes no idempotency key; a retry
 * finds an earlier launch through the refId-named SSH key, but that is not atomic).
 */
export const LAMBDA_CAPABILITIES: readonly Capability[] = [
  'create-instance',
  'terminate-instance',
  'create-terminate-instance',
  'reboot-instance',
  'instance-userdata',
];

/** Tags the adapter writes at launch and reads back. */
export const LAMBDA_TAGS = {
  refId: 'gpuflow-ref-id',
  cloudCredRefId: 'gpuflow-cloud-cred-ref-id',
  createdAt: 'gpuflow-created-at',
} as const;

/** Lambda images log in as ubuntu on port 22 (the API does not say; Brev hard-coded the same). */
export const LAMBDA_SSH_USER = 'ubuntu';
export const LAMBDA_SSH_PORT = 22;

const enc = encodeURIComponent;

// --- mapping (pure, exported for tests) -----------------------------------------------------------

/** Lambda status → contract status (Brev's map; `preempted` is an interruption, `unhealthy` still runs). */
export function lambdaStatus(status: string): InstanceStatus {
  switch (status) {
    case 'booting':
      return { lifecycleStatus: 'pending', messages: [] };
    case 'active':
      return { lifecycleStatus: 'running', messages: [] };
    case 'unhealthy':
      return { lifecycleStatus: 'running', messages: ['lambda reports the instance unhealthy'] };
    case 'terminating':
      return { lifecycleStatus: 'terminating', messages: [] };
    case 'terminated':
      return { lifecycleStatus: 'terminated', messages: [] };
    case 'preempted':
      return { lifecycleStatus: 'terminated', messages: ['lambda preempted the instance'], interruption: 'preempted' };
    case 'error':
      return { lifecycleStatus: 'failed', messages: ['lambda reports an error'] };
    default:
      return { lifecycleStatus: 'pending', messages: [`unknown lambda status "${status}"`] };
  }
}

/** Brev's instance name `{credRefId}--{2006-01-02-15-04-05Z07-00}` (UTC renders "Z"). */
const BREV_NAME = /^(.+)--(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})Z$/;

export function brevInstanceName(credRefId: string, at: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${credRefId}--${at.getUTCFullYear()}-${p(at.getUTCMonth() + 1)}-${p(at.getUTCDate())}-${p(at.getUTCHours())}-${p(at.getUTCMinutes())}-${p(at.getUTCSeconds())}Z`;
}

export function parseBrevInstanceName(name: string | null | undefined): { credRefId: string; createdAt: string } | undefined {
  const m = BREV_NAME.exec(name ?? '');
  if (!m) return undefined;
  const t = Date.UTC(Number(m[2]), Number(m[3]) - 1, Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7]));
  return Number.isFinite(t) ? { credRefId: m[1], createdAt: new Date(t).toISOString() } : undefined;
}

/** The SSH key name for a refId: the refId itself (Brev), or a hash of it when it is too long for a key name. */
export function sshKeyNameFor(refId: string): string {
  return refId.length <= LAMBDA_NAME_MAX ? refId : `gpuflow-${createHash('sha256').update(refId).digest('hex').slice(0, 32)}`;
}

function isoOrUndefined(s: string | undefined): string | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isFinite(t) ? new Date(t).toISOString() : undefined;
}

/** Every region we know (table order), then regions Lambda reports that the table lacks but whose country is known. */
function regionsOf(data: LambdaInstanceTypesWire | undefined): LambdaRegionWire[] {
  const out: LambdaRegionWire[] = LAMBDA_REGIONS.map((r) => ({ name: r.name, description: r.description }));
  const seen = new Set(out.map((r) => r.name));
  const extra: LambdaRegionWire[] = [];
  for (const item of Object.values(data ?? {})) {
    for (const r of item.regions_with_capacity_available) {
      if (seen.has(r.name) || !lambdaRegionCountry(r.name)) continue;
      seen.add(r.name);
      extra.push(r);
    }
  }
  return [...out, ...extra.sort((a, b) => a.name.localeCompare(b.name))];
}

export function lambdaLocations(data?: LambdaInstanceTypesWire): Location[] {
  return regionsOf(data).map((r) => ({
    name: r.name,
    description: lambdaRegion(r.name)?.description ?? r.description,
    available: true,
    priority: 0,
    country: lambdaRegionCountry(r.name)!,
  }));
}

/** The GPU of a Lambda type from its description ("8x Tesla V100 (16 GB)"); none for CPU types. */
export function lambdaGpu(it: { description: string; gpu_description: string; specs: { gpus: number } }): Gpu | undefined {
  if (it.specs.gpus === 0) return undefined;
  const g = parseGpuDescription(it.description) ?? parseGpuDescription(it.gpu_description);
  if (!g) return undefined;
  return /^\s*\d+\s*x/i.test(it.description) ? g : { ...g, count: it.specs.gpus };
}

/** One contract instance type per (Lambda type, region), sorted by type then region. */
export function lambdaInstanceTypes(data: LambdaInstanceTypesWire): InstanceType[] {
  const regions = regionsOf(data);
  const out: InstanceType[] = [];
  for (const name of Object.keys(data).sort()) {
    const { instance_type: it, regions_with_capacity_available: withCapacity } = data[name];
    const available = new Set(withCapacity.map((r) => r.name));
    const gpu = lambdaGpu(it);
    const arch = (gpu && hostArchitectureForGpu(gpu.name)) ?? 'x86_64';
    for (const region of regions) {
      out.push({
        id: makeGenericInstanceTypeId({ location: region.name, type: it.name }),
        location: region.name,
        availableAzs: [],
        subLocation: '',
        type: it.name,
        supportedGpus: gpu ? [gpu] : [],
        supportedStorage: [
          { count: 1, size: bytes(it.specs.storage_gib, 'GiB'), type: 'ssd', isEphemeral: false, isAdditionalDisk: false, isElastic: false },
        ],
        memory: bytes(it.specs.memory_gib, 'GiB'),
        vcpu: it.specs.vcpus,
        supportedArchitectures: [arch],
        supportedUsageClasses: ['on-demand'],
        stoppable: false,
        rebootable: true,
        preemptible: false,
        isAvailable: available.has(region.name),
        basePrice: toJSON(moneyFromMinor(it.price_cents_per_hour, 'USD')),
        provider: LAMBDA_PROVIDER_ID,
        cloud: LAMBDA_PROVIDER_ID,
        canModifyFirewallRules: false,
      });
    }
  }
  return out;
}

export function lambdaInstance(w: LambdaInstanceWire, opts: { testReplica: boolean }): Instance {
  const tags: Tags = Object.fromEntries((w.tags ?? []).map((t) => [t.key, t.value]));
  const fromName = parseBrevInstanceName(w.name);
  const ext = opts.testReplica ? w.gpuflow_replica : undefined;
  const instanceType = w.instance_type.name;
  return {
    name: w.name ?? '',
    refId: tags[LAMBDA_TAGS.refId] || w.ssh_key_names[0] || w.id,
    cloudCredRefId: tags[LAMBDA_TAGS.cloudCredRefId] || fromName?.credRefId || 'unknown',
    createdAt: isoOrUndefined(tags[LAMBDA_TAGS.createdAt]) ?? fromName?.createdAt ?? new Date(0).toISOString(),
    cloudId: w.id,
    publicIp: w.ip ?? '',
    publicDns: '',
    privateIp: w.private_ip ?? '',
    hostname: w.hostname ?? '',
    imageId: '',
    instanceType,
    instanceTypeId: makeGenericInstanceTypeIdFromInstance({ location: w.region.name, instanceType }),
    diskSize: bytes(w.instance_type.specs.storage_gib, 'GiB'),
    sshUser: ext?.ssh_user ?? LAMBDA_SSH_USER,
    sshPort: ext ? (ext.ssh_port ?? 0) : LAMBDA_SSH_PORT,
    status: lambdaStatus(w.status),
    spot: false,
    firewallRules: { ingressRules: [], egressRules: [] },
    location: w.region.name,
    subLocation: '',
    tags,
    stoppable: false,
    rebootable: true,
    isContainer: false,
    notPrivileged: ext?.not_privileged ?? false,
  };
}

function sameKey(a: string, b: string): boolean {
  const kb = (s: string) => s.trim().split(/\s+/).slice(0, 2).join(' ');
  return kb(a) === kb(b);
}

/** Tags for the launch request, checked against Lambda's rules so a bad tag fails here, by name. */
export function launchTags(user: Tags, own: Record<string, string>): { key: string; value: string }[] {
  const all = { ...user, ...own };
  const problems: string[] = [];
  for (const [k, v] of Object.entries(all)) {
    if (!LAMBDA_TAG_KEY.test(k) || k.length > LAMBDA_TAG_KEY_MAX) problems.push(`tag key "${k}" must match ${LAMBDA_TAG_KEY} and be at most ${LAMBDA_TAG_KEY_MAX} characters`);
    if (v.length > LAMBDA_TAG_VALUE_MAX) problems.push(`tag "${k}" value is longer than ${LAMBDA_TAG_VALUE_MAX} characters`);
  }
  if (problems.length) throw new InvalidRequestError(`lambda launch: ${problems.join('; ')}`);
  return Object.entries(all).map(([key, value]) => ({ key, value }));
}

// --- the client -----------------------------------------------------------------------------------

export class LambdaClient extends CredentialBoundClient<LambdaCredential> implements CloudClient {
  /** Private: it holds the API key. */
  readonly #target: LambdaHttpTarget;

  constructor(credential: LambdaCredential, location: string) {
    super(credential, location);
    this.#target = credential.httpTarget();
  }

  // --- catalog ----------------------------------------------------------------------------------

  /** Lambda has no regions endpoint: the known regions, all open (availability is per type). */
  async getLocations(_args?: { includeUnavailable?: boolean }): Promise<Location[]> {
    return lambdaLocations();
  }

  async getInstanceTypes(args: GetInstanceTypesArgs = {}): Promise<InstanceType[]> {
    const parsed = GetInstanceTypesArgsSchema.safeParse(args);
    if (!parsed.success) throw invalidArgs('getInstanceTypes', parsed.error);
    // The API is global: there is no server-side filter, every filter is applied here.
    const data = await callLambda(this.#target, 'GET', '/instance-types', LambdaInstanceTypesSchema, { op: 'catalog' });
    return lambdaInstanceTypes(data).filter((it) => isSelectedByArgs(it, parsed.data));
  }

  /** Brev's value: Lambda's catalog changes slowly and the API allows about one request per second. */
  getInstanceTypePollTimeMs(): number {
    return 5 * 60_000;
  }

  // --- instances: reads -------------------------------------------------------------------------

  private toInstance(w: LambdaInstanceWire): Instance {
    return lambdaInstance(w, { testReplica: this.credential.testReplica });
  }

  async getInstance(cloudId: string): Promise<Instance> {
    return this.toInstance(await callLambda(this.#target, 'GET', `/instances/${enc(cloudId)}`, LambdaInstanceSchema, { op: 'instance' }));
  }

  async listInstances(args: ListInstancesArgs = {}): Promise<Instance[]> {
    const parsed = ListInstancesArgsSchema.safeParse(args);
    if (!parsed.success) throw invalidArgs('listInstances', parsed.error);
    const a = parsed.data;
    if (a.instanceIds && a.instanceIds.length === 0) return [];
    const all = (await callLambda(this.#target, 'GET', '/instances', z.array(LambdaInstanceSchema), { op: 'instance' })).map((w) => this.toInstance(w));
    return all.filter((i) => isInstanceSelectedByArgs(i, a));
  }

  getInstancePollTimeMs(): number {
    return this.credential.instancePollMs;
  }

  // --- instances: lifecycle ---------------------------------------------------------------------

  /**
   * Registers the public key under the refId-named SSH key (or finds it), then launches. If the key
   * already exists, an earlier attempt may have launched: an instance carrying the refId is
   * returned instead of launching a second one.
   */
  async createInstance(attrs: CreateInstanceAttrs): Promise<Instance> {
    const parsed = CreateInstanceAttrsSchema.safeParse(attrs);
    if (!parsed.success) throw invalidArgs('createInstance', parsed.error);
    const a = parsed.data;
    if (a.useSpot) throw new InvalidRequestError('lambda: the API has no spot or interruptible instances');
    if (a.firewallRules.ingressRules.length > 0 || a.firewallRules.egressRules.length > 0) {
      throw new InvalidRequestError('lambda: firewall rules at create are not supported by this adapter (gpuflow applies the host firewall over SSH at bootstrap)');
    }
    if (a.subLocation) throw new InvalidRequestError(`lambda: regions have no sub-locations (got "${a.subLocation}")`);
    let userData: string | undefined;
    if (a.userDataBase64) {
      userData = Buffer.from(a.userDataBase64, 'base64').toString('utf8');
      if (Buffer.byteLength(userData) > LAMBDA_USER_DATA_MAX_BYTES) throw new InvalidRequestError('lambda: user data is larger than 1 MB');
    }
    const now = new Date();
    const credRefId = this.getReferenceId();
    const tags = launchTags(a.tags, {
      [LAMBDA_TAGS.refId]: a.refId,
      [LAMBDA_TAGS.cloudCredRefId]: credRefId,
      [LAMBDA_TAGS.createdAt]: now.toISOString(),
    });

    const keyName = sshKeyNameFor(a.refId);
    const keys = await callLambda(this.#target, 'GET', '/ssh-keys', z.array(LambdaSshKeySchema), { op: 'ssh-key' });
    const existingKey = keys.find((k) => k.name === keyName);
    if (existingKey) {
      if (!sameKey(existingKey.public_key, a.publicKey)) {
        throw new InvalidRequestError(`lambda: an SSH key named "${keyName}" exists with a different public key`);
      }
      const earlier = (await this.listInstances({})).find((i) => i.refId === a.refId && i.status.lifecycleStatus !== 'terminated' && i.status.lifecycleStatus !== 'terminating');
      if (earlier) return earlier;
    } else {
      await callLambda(this.#target, 'POST', '/ssh-keys', LambdaSshKeySchema, { op: 'ssh-key', body: { name: keyName, public_key: a.publicKey.trim() } });
    }

    const body: LambdaLaunchRequest = {
      region_name: a.location,
      instance_type_name: a.instanceType,
      ssh_key_names: [keyName],
      name: (a.name || brevInstanceName(credRefId, now)).slice(0, LAMBDA_NAME_MAX),
      tags,
      ...(userData !== undefined ? { user_data: userData } : {}),
      ...(a.imageId ? { image: { id: a.imageId } } : {}),
    };
    const launched = await callLambda(this.#target, 'POST', '/instance-operations/launch', LambdaLaunchResponseSchema, { op: 'launch', body });
    if (launched.instance_ids.length !== 1) {
      throw new InvalidRequestError(`lambda launch returned ${launched.instance_ids.length} instance IDs, expected 1`);
    }
    const id = launched.instance_ids[0];
    try {
      return await this.getInstance(id);
    } catch (e) {
      if (e instanceof AuthenticationError) throw e;
      // The launch happened: never report a failure for an instance that exists. Return what we
      // know; the caller polls getInstance for the rest.
      this.#target.logger?.debug({ id, err: isCloudError(e) ? e.message : String(e) }, 'lambda: reading the launched instance failed; returning what the launch said');
      return {
        name: body.name ?? '',
        refId: a.refId,
        cloudCredRefId: credRefId,
        createdAt: now.toISOString(),
        cloudId: id,
        publicIp: '',
        publicDns: '',
        privateIp: '',
        hostname: '',
        imageId: a.imageId,
        instanceType: a.instanceType,
        instanceTypeId: makeGenericInstanceTypeIdFromInstance({ location: a.location, instanceType: a.instanceType }),
        sshUser: this.credential.testReplica ? '' : LAMBDA_SSH_USER,
        sshPort: this.credential.testReplica ? 0 : LAMBDA_SSH_PORT,
        status: { lifecycleStatus: 'pending', messages: ['launched; details not read yet'] },
        spot: false,
        firewallRules: { ingressRules: [], egressRules: [] },
        location: a.location,
        subLocation: '',
        tags: Object.fromEntries(tags.map((t) => [t.key, t.value])),
        stoppable: false,
        rebootable: true,
        isContainer: false,
        notPrivileged: this.credential.testReplica,
      };
    }
  }

  /** Idempotent: an unknown or terminated instance is fine. Then the refId-named SSH key is removed (best effort). */
  async terminateInstance(cloudId: string): Promise<void> {
    let terminated: LambdaInstanceWire[];
    try {
      terminated = (
        await callLambda(this.#target, 'POST', '/instance-operations/terminate', LambdaTerminateResponseSchema, {
          op: 'instance',
          body: { instance_ids: [cloudId] },
        })
      ).terminated_instances;
    } catch (e) {
      if (e instanceof InstanceNotFoundError) return;
      throw e;
    }
    for (const w of terminated) await this.removeOwnSshKey(w);
  }

  /** Deletes the SSH key this adapter registered for the instance; errors are logged, never thrown. */
  private async removeOwnSshKey(w: LambdaInstanceWire): Promise<void> {
    const refId = (w.tags ?? []).find((t) => t.key === LAMBDA_TAGS.refId)?.value;
    const keyName = w.ssh_key_names[0];
    if (!refId || !keyName || keyName !== sshKeyNameFor(refId)) return; // not a key we made
    try {
      const keys = await callLambda(this.#target, 'GET', '/ssh-keys', z.array(LambdaSshKeySchema), { op: 'ssh-key' });
      const key = keys.find((k) => k.name === keyName);
      if (key) await callLambda(this.#target, 'DELETE', `/ssh-keys/${enc(key.id)}`, z.unknown(), { op: 'ssh-key' });
    } catch (e) {
      this.#target.logger?.debug({ keyName, err: isCloudError(e) ? e.message : String(e) }, 'lambda: removing the instance SSH key failed (left in the account)');
    }
  }

  /** Five launches per minute (one per 12 s), as documented. */
  getMaxCreateRequestsPerMinute(): number {
    return LAMBDA_RATE_LIMITS.launchesPerMinute;
  }

  async rebootInstance(cloudId: string): Promise<void> {
    await callLambda(this.#target, 'POST', '/instance-operations/restart', LambdaRestartResponseSchema, { op: 'instance', body: { instance_ids: [cloudId] } });
  }
}
