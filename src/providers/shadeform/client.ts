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
import type { Capability } from '../sdk/capabilities.js';
import type { CloudClient, CloudCredential } from '../sdk/client.js';
import { invalidArgs, isInstanceSelectedByArgs } from '../sdk/clientArgs.js';
import { CredentialBoundClient } from '../sdk/credentialBoundClient.js';
import { AuthenticationError, InstanceNotFoundError, InvalidRequestError, isCloudError } from '../sdk/errors.js';
import { CreateInstanceAttrsSchema, GetInstanceTypesArgsSchema, isAllLocations, isSelectedByArgs, ListInstancesArgsSchema, TagsSchema, type CreateInstanceAttrs, type GetInstanceTypesArgs, type Instance, type InstanceType, type ListInstancesArgs, type Location, type Tags } from '../sdk/types.js';
import { ShadeformAddSshKeyResponseSchema, ShadeformCreateResponseSchema, ShadeformInstanceSchema, ShadeformInstancesResponseSchema, ShadeformInstanceTypesResponseSchema, ShadeformSshKeysResponseSchema, type ShadeformCreateRequest, type ShadeformInstanceTypeWire, type ShadeformInstanceWire } from './api.js';
import { callShadeform, type ShadeformHttpTarget } from './http.js';
import { SHADEFORM_TAGS, parseShadeformTags, encodeShadeformTags, shadeformInstance, keyBody, sshKeyNameFor } from './instances.js';
import { shadeformTypeId, splitShadeformType, shadeformInstanceTypes, shadeformLocations } from './catalog.js';

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

const enc = encodeURIComponent;

/**
 * What the client needs of its credential (ShadeformCredential in ./credential.ts implements it). Declared
 * here so the client does not import the credential that makes it.
 */
export interface ShadeformClientCredential extends CloudCredential {
  readonly testReplica: boolean;
  readonly instancePollMs: number;
  httpTarget(): ShadeformHttpTarget;
}

export class ShadeformClient extends CredentialBoundClient<ShadeformClientCredential> implements CloudClient {
  /** Private: it holds the API key. */
  readonly #target: ShadeformHttpTarget;

  constructor(credential: ShadeformClientCredential, location: string) {
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
    const query: [string, string][] = !isAllLocations(a.locations) && a.locations!.length === 1 ? [['region', a.locations![0]!]] : [];
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
    const own = Object.fromEntries(Object.values(SHADEFORM_TAGS).filter((k) => current[k] !== undefined).map((k) => [k, current[k]!]));
    const merged = encodeShadeformTags({ ...current, ...t.data, ...own });
    await callShadeform(this.#target, 'POST', `/instances/${enc(args.instanceId)}/update`, undefined, { op: 'instance', body: { tags: merged } });
  }
}
