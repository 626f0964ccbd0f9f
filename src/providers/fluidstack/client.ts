/**
 * The FluidStack adapter: the provider contract over FluidStack's Infrastructure API v1alpha1.
 *
 * - Locational: each region is its own host with its own project (X-PROJECT-ID). A client sees
 *   the regions it was made for (one, or all for the catalog view); catalog and list calls go to
 *   each of them, instance calls find the instance's region.
 * - Catalog: `GET /instance-types` (no prices) and `GET /capacity` per region; prices come from
 *   the connection (./prices.ts).
 * - Create: `POST /instances` with the SSH key in cloud-init `userData`, `preemptible` for spot,
 *   refId, the credential's refId and the creation time as tags. Capacity shortage is not an HTTP
 *   error: the instance comes back `out-of-stock`; the adapter deletes it and throws
 *   InsufficientCapacityError.
 * - Stop/start: `POST /instances/{id}/actions/stop|start` (202; 409 on a state conflict).
 * - Errors: see ./http.ts.
 */
import type { Capability } from '../sdk/capabilities.js';
import type { CloudClient, CloudCredential } from '../sdk/client.js';
import { invalidArgs, isInstanceSelectedByArgs } from '../sdk/clientArgs.js';
import { CredentialBoundClient } from '../sdk/credentialBoundClient.js';
import { InstanceNotFoundError, InsufficientCapacityError, InvalidRequestError, isCloudError } from '../sdk/errors.js';
import {
  CreateInstanceAttrsSchema,
  GetInstanceTypesArgsSchema,
  isAllLocations,
  isSelectedByArgs,
  ListInstancesArgsSchema,
  type CreateInstanceAttrs,
  type GetInstanceTypesArgs,
  type Instance,
  type InstanceType,
  type ListInstancesArgs,
  type Location,
} from '../sdk/types.js';
import {
  FLUIDSTACK_DEFAULT_IMAGE,
  FluidstackCapacityListSchema,
  FluidstackInstanceSchema,
  FluidstackInstancesSchema,
  FluidstackInstanceTypesSchema,
  type FluidstackCreateRequest,
  type FluidstackInstanceWire,
} from './api.js';
import { sshKeyUserData } from './cloudInit.js';
import type { FluidstackTypePrices } from './prices.js';
import { callFluidstack, type FluidstackEndpoint, type FluidstackHttpTarget } from './http.js';
import { fluidstackInstanceTypes, fluidstackLocation } from './catalog.js';
import { checkFluidstackTags, FLUIDSTACK_TAGS, fluidstackInstance } from './instances.js';
import type { FluidstackRegion } from './regions.js';

/**
 * Exactly what this adapter implements. Not: reboot (no API), tags (no update call; tags are set
 * at create and read back), instance-userdata (userData carries the SSH key), modify-firewall (no
 * API), create-instance-idempotent (create takes no idempotency key).
 */
export const FLUIDSTACK_CAPABILITIES: readonly Capability[] = ['create-instance', 'terminate-instance', 'create-terminate-instance', 'stop-start-instance'];

/** Instance IDs are UUIDs (the spec's path format): anything else cannot name an instance. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const enc = encodeURIComponent;

/**
 * What the client needs of its credential (FluidstackCredential in ./credential.ts implements it). Declared
 * here so the client does not import the credential that makes it.
 */
export interface FluidstackClientCredential extends CloudCredential {
  readonly testReplica: boolean;
  readonly instancePollMs: number;
  /** The connection's prices for a type, or undefined when it states none. */
  pricesFor(type: string): FluidstackTypePrices | undefined;
  httpTarget(): FluidstackHttpTarget;
}

export class FluidstackClient extends CredentialBoundClient<FluidstackClientCredential> implements CloudClient {
  /** Private: it holds the token. */
  readonly #target: FluidstackHttpTarget;
  readonly #regions: readonly FluidstackRegion[];

  constructor(credential: FluidstackClientCredential, location: string, regions: readonly FluidstackRegion[]) {
    super(credential, location);
    this.#target = credential.httpTarget();
    this.#regions = regions;
  }

  private project(r: FluidstackRegion): FluidstackEndpoint {
    return { url: r.url, projectId: r.projectId };
  }

  private inScope(locations: string[] | undefined): readonly FluidstackRegion[] {
    return isAllLocations(locations) ? this.#regions : this.#regions.filter((r) => locations!.includes(r.name));
  }

  private regionNamed(name: string): FluidstackRegion {
    const r = this.#regions.find((x) => x.name === name);
    if (!r) throw new InvalidRequestError(`fluidstack: region "${name}" is not served by this client (regions: ${this.#regions.map((x) => x.name).join(', ')})`);
    return r;
  }

  private toInstance(w: FluidstackInstanceWire, r: FluidstackRegion): Instance {
    return fluidstackInstance(w, r.name, { testReplica: this.credential.testReplica });
  }

  /** Runs `call` in each region until one knows the instance; InstanceNotFoundError when none does. */
  private async inRegionOf<T>(cloudId: string, call: (r: FluidstackRegion) => Promise<T>): Promise<T> {
    if (!UUID.test(cloudId)) throw new InstanceNotFoundError(`fluidstack: "${cloudId}" is not a FluidStack instance ID (a UUID)`);
    for (const r of this.#regions) {
      try {
        return await call(r);
      } catch (e) {
        if (!(e instanceof InstanceNotFoundError)) throw e;
      }
    }
    throw new InstanceNotFoundError(`fluidstack: instance ${cloudId} not found in ${this.#regions.map((r) => r.name).join(', ')}`);
  }

  // --- catalog ----------------------------------------------------------------------------------

  private capacity(r: FluidstackRegion) {
    return callFluidstack(this.#target, this.project(r), 'GET', '/capacity', FluidstackCapacityListSchema, { op: 'catalog' });
  }

  async getLocations(args?: { includeUnavailable?: boolean }): Promise<Location[]> {
    const locs = await Promise.all(this.#regions.map(async (r) => fluidstackLocation(r, await this.capacity(r))));
    return args?.includeUnavailable ? locs : locs.filter((l) => l.available);
  }

  /** Only the regions asked for are called: each is its own endpoint. */
  async getInstanceTypes(args: GetInstanceTypesArgs = {}): Promise<InstanceType[]> {
    const parsed = GetInstanceTypesArgsSchema.safeParse(args);
    if (!parsed.success) throw invalidArgs('getInstanceTypes', parsed.error);
    const a = parsed.data;
    const perRegion = await Promise.all(
      this.inScope(a.locations).map(async (r) => {
        // The type list is not project-scoped (the spec gives it no X-PROJECT-ID); capacity is.
        const [types, capacity] = await Promise.all([
          callFluidstack(this.#target, { url: r.url }, 'GET', '/instance-types', FluidstackInstanceTypesSchema, { op: 'catalog' }),
          this.capacity(r),
        ]);
        return fluidstackInstanceTypes(r, types, capacity, (t) => this.credential.pricesFor(t));
      }),
    );
    return perRegion.flat().filter((it) => isSelectedByArgs(it, a));
  }

  /** Brev's FluidStack poll time. */
  getInstanceTypePollTimeMs(): number {
    return 5 * 60_000;
  }

  // --- instances: reads -------------------------------------------------------------------------

  async getInstance(cloudId: string): Promise<Instance> {
    return this.inRegionOf(cloudId, async (r) =>
      this.toInstance(await callFluidstack(this.#target, this.project(r), 'GET', `/instances/${enc(cloudId)}`, FluidstackInstanceSchema, { op: 'instance' }), r),
    );
  }

  async listInstances(args: ListInstancesArgs = {}): Promise<Instance[]> {
    const parsed = ListInstancesArgsSchema.safeParse(args);
    if (!parsed.success) throw invalidArgs('listInstances', parsed.error);
    const a = parsed.data;
    if (a.instanceIds && a.instanceIds.length === 0) return [];
    const perRegion = await Promise.all(
      this.inScope(a.locations).map(async (r) =>
        (await callFluidstack(this.#target, this.project(r), 'GET', '/instances', FluidstackInstancesSchema, { op: 'instance' })).map((w) => this.toInstance(w, r)),
      ),
    );
    return perRegion.flat().filter((i) => isInstanceSelectedByArgs(i, a));
  }

  getInstancePollTimeMs(): number {
    return this.credential.instancePollMs;
  }

  // --- instances: lifecycle ---------------------------------------------------------------------

  async createInstance(attrs: CreateInstanceAttrs): Promise<Instance> {
    const parsed = CreateInstanceAttrsSchema.safeParse(attrs);
    if (!parsed.success) throw invalidArgs('createInstance', parsed.error);
    const a = parsed.data;
    if (a.userDataBase64) throw new InvalidRequestError('fluidstack: user data is not supported by this adapter (userData carries the SSH key)');
    if (a.firewallRules.ingressRules.length > 0 || a.firewallRules.egressRules.length > 0) {
      throw new InvalidRequestError('fluidstack: firewall rules at create are not supported (the API has none; gpuflow applies the host firewall over SSH at bootstrap)');
    }
    if (a.subLocation) throw new InvalidRequestError(`fluidstack: regions have no sub-locations (got "${a.subLocation}")`);
    const region = this.regionNamed(a.location);
    const tags = { ...a.tags, [FLUIDSTACK_TAGS.refId]: a.refId, [FLUIDSTACK_TAGS.cloudCredRefId]: this.getReferenceId(), [FLUIDSTACK_TAGS.createdAt]: new Date().toISOString() };
    const bad = checkFluidstackTags(tags);
    if (bad.length) throw new InvalidRequestError(`fluidstack: ${bad.join('; ')}`);
    const body: FluidstackCreateRequest = {
      name: a.name || a.refId,
      type: a.instanceType,
      image: a.imageId || FLUIDSTACK_DEFAULT_IMAGE,
      preemptible: a.useSpot,
      ephemeral: false,
      userData: sshKeyUserData(a.publicKey),
      tags,
    };
    const created = await callFluidstack(this.#target, this.project(region), 'POST', '/instances', FluidstackInstanceSchema, { op: 'create', body });
    if (created.state === 'out-of-stock') {
      // No machine for it: a capacity error, and no instance may be left behind.
      await this.deleteIn(region, created.id);
      throw new InsufficientCapacityError(`fluidstack: ${a.instanceType}${a.useSpot ? ' (preemptible)' : ''} is out of stock in ${region.name}`, { scope: 'zone' });
    }
    return this.toInstance(created, region);
  }

  /** DELETE in one region; false when the region does not know the instance. */
  private async deleteIn(r: FluidstackRegion, cloudId: string): Promise<boolean> {
    try {
      await callFluidstack(this.#target, this.project(r), 'DELETE', `/instances/${enc(cloudId)}`, undefined, { op: 'instance' });
      return true;
    } catch (e) {
      if (e instanceof InstanceNotFoundError) return false;
      this.#target.logger?.debug({ id: cloudId, region: r.name, err: isCloudError(e) ? e.message : String(e) }, 'fluidstack: delete failed');
      throw e;
    }
  }

  /** Idempotent: an unknown or already deleted instance is fine. */
  async terminateInstance(cloudId: string): Promise<void> {
    if (!UUID.test(cloudId)) return;
    for (const r of this.#regions) if (await this.deleteIn(r, cloudId)) return;
  }

  /** FluidStack states no limit; the contract default. */
  getMaxCreateRequestsPerMinute(): number {
    return 10;
  }

  async stopInstance(cloudId: string): Promise<void> {
    await this.inRegionOf(cloudId, (r) => callFluidstack(this.#target, this.project(r), 'POST', `/instances/${enc(cloudId)}/actions/stop`, undefined, { op: 'instance' }));
  }

  async startInstance(cloudId: string): Promise<void> {
    await this.inRegionOf(cloudId, (r) => callFluidstack(this.#target, this.project(r), 'POST', `/instances/${enc(cloudId)}/actions/start`, undefined, { op: 'instance' }));
  }
}
