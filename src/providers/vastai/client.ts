/**
 * The Vast.ai adapter: the provider contract over Vast's REST API (v0, and v1 for listing).
 *
 * - Catalog: `POST /api/v0/bundles/` (search offers) grouped into stable shapes per country; see
 *   ./catalog.ts for why ask IDs are not instance type IDs.
 * - Create: the account SSH key is ensured first (Vast puts account keys into new instances; "SSH
 *   keys must be registered BEFORE creating an instance"), then the cheapest matching ask is
 *   accepted (`PUT /api/v0/asks/{id}/`; a taken ask is `no_such_ask`, the next cheapest is tried),
 *   then the key is attached to the instance itself (`POST /api/v0/instances/{id}/ssh/`).
 *   Interruptible = a bid: `price` is the ask's `min_bid`.
 * - Identity lives in the label (./instances.ts). Errors and rate limits: ./http.ts.
 */
import type { Capability } from '../sdk/capabilities.js';
import type { CloudClient, CloudCredential } from '../sdk/client.js';
import { invalidArgs, isInstanceSelectedByArgs } from '../sdk/clientArgs.js';
import { CredentialBoundClient } from '../sdk/credentialBoundClient.js';
import { AuthenticationError, InstanceNotFoundError, InsufficientCapacityError, InvalidRequestError, isCloudError } from '../sdk/errors.js';
import {
  CreateInstanceAttrsSchema,
  GetInstanceTypesArgsSchema,
  isAllLocations,
  isSelectedByArgs,
  ListInstancesArgsSchema,
  TagsSchema,
  type CreateInstanceAttrs,
  type GetInstanceTypesArgs,
  type Instance,
  type InstanceType,
  type ListInstancesArgs,
  type Location,
  type Tags,
} from '../sdk/types.js';
import { byteCountIn } from '../sdk/bytes.js';
import {
  VastCreateResponseSchema,
  VastCreateSshKeyResponseSchema,
  VastInstancesPageSchema,
  VastSearchResponseSchema,
  VastShowInstanceResponseSchema,
  VastSshKeysResponseSchema,
  VastSuccessSchema,
  type VastCreateRequest,
  type VastInstanceWire,
  type VastOfferWire,
} from './api.js';
import { splitVastType, vastLocations, vastInstanceTypes, vastTypeId, vramGiB } from './catalog.js';
import { callVast, type VastHttpTarget } from './http.js';
import { encodeVastLabel, parseVastLabel, vastInstance } from './instances.js';

/**
 * Exactly what this adapter implements. Not: create-instance-idempotent (accepting an ask takes no
 * idempotency key), instance-userdata (`onstart` is not wired), modify-firewall (Vast maps ports,
 * it has no firewall API).
 */
export const VASTAI_CAPABILITIES: readonly Capability[] = [
  'create-instance',
  'terminate-instance',
  'create-terminate-instance',
  'tags',
  'reboot-instance',
  'stop-start-instance',
];

/** Asks tried per create before giving up on a shape (each may have been taken meanwhile). */
export const VASTAI_ASKS_TRIED_PER_CREATE = 3;
/** The create endpoint's documented minimum interval (spec: "endpoint threshold=4.5" s). */
const CREATE_INTERVAL_S = 4.5;
/** `GET /api/v1/instances` pages hold at most 25; this bounds a runaway cursor. */
const MAX_LIST_PAGES = 200;

const isVastId = (id: string) => /^\d+$/.test(id);

function keyBody(k: string): string {
  return k.trim().split(/\s+/).slice(0, 2).join(' ');
}

/**
 * What the client needs of its credential (VastaiCredential in ./credential.ts implements it). Declared
 * here so the client does not import the credential that makes it.
 */
export interface VastaiClientCredential extends CloudCredential {
  readonly testReplica: boolean;
  readonly instancePollMs: number;
  /** Docker image when a create names none. */
  readonly image: string;
  /** Disk (GB) when a create names no size. */
  readonly diskGb: number;
  /** How many asks one catalog search reads. */
  readonly searchLimit: number;
  httpTarget(): VastHttpTarget;
}

export class VastaiClient extends CredentialBoundClient<VastaiClientCredential> implements CloudClient {
  /** Private: it holds the API key. */
  readonly #target: VastHttpTarget;

  constructor(credential: VastaiClientCredential, location: string) {
    super(credential, location);
    this.#target = credential.httpTarget();
  }

  // --- catalog ----------------------------------------------------------------------------------

  /** Rentable, verified on-demand asks (they carry `min_bid` too), cheapest first. */
  private async search(filters: Record<string, unknown>, limit: number, type: 'ondemand' | 'bid' = 'ondemand'): Promise<VastOfferWire[]> {
    const body = { verified: { eq: true }, rentable: { eq: true }, rented: { eq: false }, ...filters, type, order: [['dph_total', 'asc']], limit };
    return (await callVast(this.#target, 'POST', '/api/v0/bundles/', VastSearchResponseSchema, { op: 'catalog', body })).offers;
  }

  async getLocations(args?: { includeUnavailable?: boolean }): Promise<Location[]> {
    const locs = vastLocations(await this.search({}, this.credential.searchLimit));
    return args?.includeUnavailable ? locs : locs.filter((l) => l.available);
  }

  async getInstanceTypes(args: GetInstanceTypesArgs = {}): Promise<InstanceType[]> {
    const parsed = GetInstanceTypesArgsSchema.safeParse(args);
    if (!parsed.success) throw invalidArgs('getInstanceTypes', parsed.error);
    const a = parsed.data;
    // Vast filters by country server-side, which is exactly the contract's location.
    const filters = isAllLocations(a.locations) ? {} : { geolocation: { in: a.locations!.map((l) => l.toUpperCase()) } };
    return vastInstanceTypes(await this.search(filters, this.credential.searchLimit)).filter((it) => isSelectedByArgs(it, a));
  }

  getInstanceTypePollTimeMs(): number {
    return 60_000;
  }

  // --- instances: reads -------------------------------------------------------------------------

  private toInstance(w: VastInstanceWire): Instance {
    return vastInstance(w, { testReplica: this.credential.testReplica });
  }

  private async wire(cloudId: string): Promise<VastInstanceWire> {
    if (!isVastId(cloudId)) throw new InstanceNotFoundError(`vastai: "${cloudId}" is not a Vast instance ID`);
    const r = await callVast(this.#target, 'GET', `/api/v0/instances/${cloudId}/`, VastShowInstanceResponseSchema, { op: 'instance' });
    if (!r.instances) throw new InstanceNotFoundError(`vastai: instance ${cloudId} not found`);
    return r.instances;
  }

  /** A destroyed instance is gone from Vast: InstanceNotFoundError. */
  async getInstance(cloudId: string): Promise<Instance> {
    return this.toInstance(await this.wire(cloudId));
  }

  async listInstances(args: ListInstancesArgs = {}): Promise<Instance[]> {
    const parsed = ListInstancesArgsSchema.safeParse(args);
    if (!parsed.success) throw invalidArgs('listInstances', parsed.error);
    const a = parsed.data;
    const ids = a.instanceIds?.filter(isVastId).map(Number);
    if (ids && ids.length === 0) return [];
    const out: Instance[] = [];
    let after: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const query: [string, string][] = [['limit', '25']];
      if (ids) query.push(['select_filters', JSON.stringify({ id: { in: ids } })]);
      if (after) query.push(['after_token', after]);
      const r = await callVast(this.#target, 'GET', '/api/v1/instances', VastInstancesPageSchema, { op: 'catalog', query });
      out.push(...r.instances.map((w) => this.toInstance(w)));
      if (!r.next_token) break;
      after = r.next_token;
    }
    return out.filter((i) => isInstanceSelectedByArgs(i, a));
  }

  getInstancePollTimeMs(): number {
    return this.credential.instancePollMs;
  }

  // --- instances: lifecycle ---------------------------------------------------------------------

  /** Registers the public key on the account unless it is there (by key material, not comment). */
  private async ensureAccountKey(publicKey: string): Promise<void> {
    const keys = await callVast(this.#target, 'GET', '/api/v0/ssh/', VastSshKeysResponseSchema, { op: 'ssh-key' });
    if (keys.some((k) => !k.deleted_at && keyBody(k.key) === keyBody(publicKey))) return;
    await callVast(this.#target, 'POST', '/api/v0/ssh/', VastCreateSshKeyResponseSchema, { op: 'ssh-key', body: { ssh_key: publicKey.trim() } });
  }

  /** Asks of the shape in the country, cheapest first for how it will be paid (bid or on demand). */
  private async asksFor(shape: { numGpus: number; gpuName: string; vramGiB: number }, country: string, spot: boolean): Promise<VastOfferWire[]> {
    const filters = {
      gpu_name: { eq: shape.gpuName },
      num_gpus: { eq: shape.numGpus },
      gpu_ram: { gte: (shape.vramGiB - 0.5) * 1024, lt: (shape.vramGiB + 0.5) * 1024 },
      geolocation: { in: [country] },
    };
    const offers = (await this.search(filters, 25, spot ? 'bid' : 'ondemand')).filter((o) => vramGiB(o.gpu_ram) === shape.vramGiB);
    if (!spot) return offers;
    return offers.filter((o) => typeof o.min_bid === 'number' && o.min_bid > 0).sort((x, y) => x.min_bid! - y.min_bid!);
  }

  async createInstance(attrs: CreateInstanceAttrs): Promise<Instance> {
    const parsed = CreateInstanceAttrsSchema.safeParse(attrs);
    if (!parsed.success) throw invalidArgs('createInstance', parsed.error);
    const a = parsed.data;
    if (a.userDataBase64) throw new InvalidRequestError('vastai: user data is not supported by this adapter');
    if (a.firewallRules.ingressRules.length > 0 || a.firewallRules.egressRules.length > 0) {
      throw new InvalidRequestError('vastai: Vast has no firewall API (it maps ports); firewall rules at create are not supported');
    }
    if (a.subLocation) throw new InvalidRequestError(`vastai: locations are countries and have no sub-locations (got "${a.subLocation}")`);
    const shape = splitVastType(a.instanceType);
    if (!shape) throw new InvalidRequestError(`vastai: instance type "${a.instanceType}" is not {num_gpus}x-{gpu_name}-{GiB}G`);
    const country = a.location.toUpperCase();
    if (!/^[A-Z]{2}$/.test(country)) throw new InvalidRequestError(`vastai: location "${a.location}" is not a two-letter country code`);
    const credRefId = this.getReferenceId();
    const name = a.name || a.refId;
    const label = encodeVastLabel({ name, refId: a.refId, cloudCredRefId: credRefId, tags: a.tags });

    await this.ensureAccountKey(a.publicKey);
    const asks = await this.asksFor(shape, country, a.useSpot);
    if (asks.length === 0) {
      throw new InsufficientCapacityError(`vastai: no ${a.useSpot ? 'interruptible ' : ''}ask for ${a.instanceType} in ${country} right now`, { scope: 'zone' });
    }
    const disk = a.diskSize ? Math.max(1, Math.ceil(byteCountIn(a.diskSize, 'MB') / 1000)) : this.credential.diskGb;
    const startedAt = new Date();
    let contract: number | undefined;
    let taken: unknown;
    for (const ask of asks.slice(0, VASTAI_ASKS_TRIED_PER_CREATE)) {
      const body: VastCreateRequest = {
        image: a.imageId || this.credential.image,
        label,
        disk,
        runtype: 'ssh_direct',
        cancel_unavail: true,
        ...(a.useSpot ? { price: ask.min_bid! } : {}),
        ...(Object.keys(a.additionalEnvVars).length ? { env: { ...a.additionalEnvVars } } : {}),
      };
      try {
        contract = (await callVast(this.#target, 'PUT', `/api/v0/asks/${ask.id}/`, VastCreateResponseSchema, { op: 'create', body })).new_contract;
        break;
      } catch (e) {
        // Someone rented that machine since the search: the next cheapest ask may still be there.
        if (!(e instanceof InsufficientCapacityError)) throw e;
        taken = e;
      }
    }
    if (contract === undefined) throw taken;
    const cloudId = String(contract);
    await this.attachKey(cloudId, a.publicKey);
    try {
      return await this.getInstance(cloudId);
    } catch (e) {
      if (e instanceof AuthenticationError) throw e;
      // Created: never report a failure for an instance that exists; the caller polls for the rest.
      this.#target.logger?.debug({ cloudId, err: isCloudError(e) ? e.message : String(e) }, 'vastai: reading the created instance failed; returning what the create said');
      return {
        name,
        refId: a.refId,
        cloudCredRefId: credRefId,
        createdAt: startedAt.toISOString(),
        cloudId,
        publicIp: '',
        publicDns: '',
        privateIp: '',
        hostname: '',
        imageId: a.imageId || this.credential.image,
        instanceType: a.instanceType,
        instanceTypeId: vastTypeId(country, a.instanceType),
        sshUser: '',
        sshPort: 0,
        status: { lifecycleStatus: 'pending', messages: ['created; details not read yet'] },
        spot: a.useSpot,
        firewallRules: { ingressRules: [], egressRules: [] },
        location: country,
        subLocation: '',
        tags: parseVastLabel(label)?.tags ?? {},
        stoppable: true,
        rebootable: true,
        isContainer: true,
        notPrivileged: true,
      };
    }
  }

  /** Attaches the key to the instance; if that fails, the instance is destroyed (no instance on error). */
  private async attachKey(cloudId: string, publicKey: string): Promise<void> {
    try {
      await callVast(this.#target, 'POST', `/api/v0/instances/${cloudId}/ssh/`, VastSuccessSchema, { op: 'instance', body: { ssh_key: publicKey.trim() } });
    } catch (e) {
      try {
        await this.terminateInstance(cloudId);
      } catch (cleanup) {
        this.#target.logger?.warn({ cloudId, err: isCloudError(cleanup) ? cleanup.message : String(cleanup) }, 'vastai: destroying an instance whose SSH key could not be attached failed');
      }
      throw e;
    }
  }

  /** Idempotent: a destroyed or unknown instance is fine. */
  async terminateInstance(cloudId: string): Promise<void> {
    if (!isVastId(cloudId)) return;
    try {
      await callVast(this.#target, 'DELETE', `/api/v0/instances/${cloudId}/`, VastSuccessSchema, { op: 'instance' });
    } catch (e) {
      if (e instanceof InstanceNotFoundError) return;
      throw e;
    }
  }

  getMaxCreateRequestsPerMinute(): number {
    return Math.floor(60 / CREATE_INTERVAL_S);
  }

  /** Stops the container; Vast keeps its disk (billed). An on-demand instance may not get its GPUs back if the machine is rented meanwhile. */
  async stopInstance(cloudId: string): Promise<void> {
    await this.manage(cloudId, { state: 'stopped' });
  }

  async startInstance(cloudId: string): Promise<void> {
    await this.manage(cloudId, { state: 'running' });
  }

  /** `PUT /api/v0/instances/reboot/{id}/`: docker stop/start "without losing GPU priority". */
  async rebootInstance(cloudId: string): Promise<void> {
    if (!isVastId(cloudId)) throw new InstanceNotFoundError(`vastai: "${cloudId}" is not a Vast instance ID`);
    await callVast(this.#target, 'PUT', `/api/v0/instances/reboot/${cloudId}/`, VastSuccessSchema, { op: 'instance' });
  }

  /** Merges into the label's tags; the identity (name, refId, credential) cannot be changed. */
  async updateInstanceTags(args: { instanceId: string; tags: Tags }): Promise<void> {
    const t = TagsSchema.safeParse(args.tags);
    if (!t.success) throw invalidArgs('updateInstanceTags', t.error);
    const w = await this.wire(args.instanceId);
    const current = parseVastLabel(w.label) ?? { name: w.label ?? '', refId: String(w.id), cloudCredRefId: this.getReferenceId(), tags: {} };
    const label = encodeVastLabel({ ...current, tags: { ...current.tags, ...t.data } });
    await this.manage(args.instanceId, { label });
  }

  private async manage(cloudId: string, body: { state: 'stopped' | 'running' } | { label: string }): Promise<void> {
    if (!isVastId(cloudId)) throw new InstanceNotFoundError(`vastai: "${cloudId}" is not a Vast instance ID`);
    await callVast(this.#target, 'PUT', `/api/v0/instances/${cloudId}/`, VastSuccessSchema, { op: 'instance', body });
  }
}
