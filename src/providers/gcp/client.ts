/**
 * The Google Compute Engine adapter: the provider contract over Compute v1 through
 * @google-cloud/compute (REST transport).
 *
 * - Catalog (./catalog.ts): `zones.list`, `machineTypes.list` per zone of the configured regions;
 *   prices from SkyPilot's GCP catalog (host VM + accelerators).
 * - Create: one `instances.insert` in the offer's zone, with a `requestId` derived from the refId
 *   (Compute ignores a repeated request with the same ID) and a name derived from it (a second
 *   insert of the same name is `alreadyExists`, answered with the instance already there), the SSH
 *   key in `ssh-keys` metadata, identity in labels and metadata, spot as
 *   `scheduling.provisioningModel: SPOT` + `instanceTerminationAction: DELETE`. The insert's zone
 *   operation is waited for (`zoneOperations.wait`), since capacity and quota failures are only
 *   in its `error`.
 * - Preemption: a `compute.instances.preempted` operation in the instance's zone.
 * - Errors (./errors.ts): capacity blocks the zone, quota the region (GPUS_ALL_REGIONS the
 *   provider), credentials the provider; throttling and 5xx are retried with backoff.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Capability } from '../sdk/capabilities.js';
import type { CloudClient } from '../sdk/client.js';
import { invalidArgs } from '../sdk/clientArgs.js';
import { CredentialBoundClient } from '../sdk/credentialBoundClient.js';
import { InstanceNotFoundError, InvalidRequestError, isCloudError, ResourceNotFoundError, ServiceUnavailableError } from '../sdk/errors.js';
import { byteCountIn } from '../sdk/bytes.js';
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
import { DEFAULT_SSH_USER, GCP_LABEL_KEYS, GCP_METADATA_KEYS, INSTANCE_NAME_RE, LABEL_KEY_RE, LABEL_VALUE_RE, PREEMPTED_OPERATION_TYPE } from './api.js';
import { gcpInstanceTypes, gcpGpu, parseGcpCatalogCsv, type GceMachineType, type GcpCatalogRow } from './catalog.js';
import type { ComputeClients, GcpCredential } from './credential.js';
import { asInstanceNotFound, callGce, gcpOperationError, type GceErrorItem } from './errors.js';
import { cloudIdOf, gcpInstance, lastSegment, metadataItems, parseCloudId, preemptedInstance, type GceInstance } from './instances.js';
import { GCP_REGIONS, gcpRegionCountry, regionOfZone } from './regions.js';

/**
 * Exactly what this adapter implements. Not declared: stop-start-instance (Spot VMs are created
 * to be deleted on preemption; on-demand stop/start is not wired), modify-firewall (the default
 * network's rules are used), machine-image, vpc.
 */
export const GCP_CAPABILITIES: readonly Capability[] = [
  'create-instance',
  'create-instance-idempotent',
  'terminate-instance',
  'create-terminate-instance',
  'instance-userdata',
  'tags',
  'reboot-instance',
];

/** Compute's default API rate limit is per project per minute; creates are kept to one a second. */
const MAX_CREATES_PER_MINUTE = 60;

/** The part of `Operation` the adapter reads. */
interface GceOperation {
  name?: string | null;
  status?: string | null;
  operationType?: string | null;
  targetLink?: string | null;
  targetId?: string | null;
  zone?: string | null;
  insertTime?: string | null;
  endTime?: string | null;
  statusMessage?: string | null;
  error?: { errors?: GceErrorItem[] | null } | null;
}

/** A Compute `requestId` for a refId and zone: a UUID (the field must be one) from their hash. */
export function requestIdFor(refId: string, zone: string, verb = 'insert'): string {
  const h = createHash('sha256').update(`${verb}\u0000${zone}\u0000${refId}`).digest('hex');
  // Version 4 layout, variant 10: Compute checks the format only.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The instance name for a refId: `gpuflow-` + readable part of the name + a hash of the refId (RFC 1035, ≤ 63). */
export function instanceNameFor(refId: string, name = ''): string {
  const hash = createHash('sha256').update(refId).digest('hex').slice(0, 16);
  const readable = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 30)
    .replace(/-+$/, '');
  const n = readable ? `gpuflow-${readable}-${hash}` : `gpuflow-${hash}`;
  if (!INSTANCE_NAME_RE.test(n)) throw new Error(`internal: instance name ${n} is not RFC 1035`);
  return n;
}

/** A label value for any string: itself when it fits (`[a-z0-9_-]{0,63}`), else `h-` + its hash. */
export function labelValueFor(v: string): string {
  return LABEL_VALUE_RE.test(v) ? v : `h-${createHash('sha256').update(v).digest('hex').slice(0, 40)}`;
}

/** `ssh-keys` metadata: `USER:KEY USER` (Compute's "Add SSH keys to VMs" format). */
export function sshKeysMetadata(publicKey: string, user = DEFAULT_SSH_USER): string {
  const [type, body] = publicKey.trim().split(/\s+/);
  return `${user}:${type} ${body} ${user}`;
}

export class GcpClient extends CredentialBoundClient<GcpCredential> implements CloudClient {
  readonly #regions: readonly string[];
  #catalogRows: GcpCatalogRow[] | undefined;
  /** The last view of each instance read, to report a preempted-then-deleted one. */
  readonly #lastSeen = new Map<string, Instance>();
  /** Instances this client asked Compute to delete (Compute shows them STOPPING until gone). */
  readonly #deleting = new Set<string>();

  constructor(credential: GcpCredential, location: string, regions: readonly string[]) {
    super(credential, location);
    this.#regions = regions;
  }

  getInstanceTypePollTimeMs(): number {
    return 5 * 60_000;
  }

  getInstancePollTimeMs(): number {
    return this.credential.instancePollMs;
  }

  getMaxCreateRequestsPerMinute(): number {
    return MAX_CREATES_PER_MINUTE;
  }

  private get project(): string {
    return this.credential.project;
  }

  private call<T>(method: string, zone: string | undefined, fn: (c: ComputeClients) => Promise<T>): Promise<T> {
    return this.credential.compute().then((c) =>
      callGce(() => fn(c), {
        what: `gcp ${zone ?? this.project} ${method}`,
        method,
        ...(zone ? { zone } : {}),
        logger: this.credential.logger(),
        maxAttempts: this.credential.maxAttempts,
        backoffMs: this.credential.backoffMs,
      }),
    );
  }

  private gax() {
    return { timeout: this.credential.timeoutMs, maxRetries: 0 };
  }

  private catalogRows(): GcpCatalogRow[] {
    if (!this.#catalogRows) {
      let text: string;
      try {
        text = readFileSync(this.credential.catalogFile, 'utf8');
      } catch (e) {
        throw new InvalidRequestError(
          `gcp: no price catalog at ${this.credential.catalogFile} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): Compute has no price API; set the connection's catalogFile to SkyPilot's GCP catalog (catalogs/v8/gcp/vms.csv of skypilot-org/skypilot-catalog)`,
        );
      }
      this.#catalogRows = parseGcpCatalogCsv(text);
    }
    return this.#catalogRows;
  }

  private regionFor(location: string): string {
    if (!this.#regions.includes(location)) {
      throw new InvalidRequestError(`gcp: location "${location}" is not a region of this client (${this.#regions.join(', ')}); use a region the connection lists`);
    }
    return location;
  }

  /** Configured regions; unavailable when Compute reports them DOWN (or does not know them). */
  async getLocations(args?: { includeUnavailable?: boolean }): Promise<Location[]> {
    const [list] = await this.call('regions.list', undefined, (c) => c.regions.list({ project: this.project }, this.gax()));
    const up = new Set((list ?? []).filter((r) => r.status === 'UP').map((r) => r.name));
    const locations = this.#regions.flatMap((r): Location[] => {
      const country = gcpRegionCountry(r);
      if (!country) return [];
      return [{ name: r, description: GCP_REGIONS[r]!.location, available: up.has(r), priority: 0, country, endpoint: this.credential.endpoint ?? 'https://compute.googleapis.com' }];
    });
    return args?.includeUnavailable ? locations : locations.filter((l) => l.available);
  }

  /** Zones of the regions that are UP, by name. */
  private async zonesOf(regions: readonly string[]): Promise<string[]> {
    const [list] = await this.call('zones.list', undefined, (c) => c.zones.list({ project: this.project }, this.gax()));
    return (list ?? [])
      .filter((z) => z.name && z.status === 'UP' && regions.includes(lastSegment(z.region)))
      .map((z) => z.name!)
      .sort();
  }

  async getInstanceTypes(args: GetInstanceTypesArgs = {}): Promise<InstanceType[]> {
    const p = GetInstanceTypesArgsSchema.safeParse(args);
    if (!p.success) throw invalidArgs('gcp getInstanceTypes', p.error);
    const a = p.data;
    const regions = this.#regions.filter((r) => isAllLocations(a.locations) || a.locations!.includes(r));
    const rows = this.catalogRows();
    const zones = await this.zonesOf(regions);
    const perRegion = await Promise.all(regions.map((r) => this.regionTypes(r, zones.filter((z) => regionOfZone(z) === r), rows, a.instanceTypes)));
    return perRegion.flat().filter((t) => isSelectedByArgs(t, a));
  }

  private async regionTypes(region: string, zones: string[], rows: readonly GcpCatalogRow[], only: string[] | undefined): Promise<InstanceType[]> {
    const priced = new Set(rows.filter((r) => r.region === region && r.instanceType && r.price).map((r) => r.instanceType));
    const perZone = await Promise.all(
      zones.map(async (zone) => {
        const [list] = await this.call('machineTypes.list', zone, (c) => c.machineTypes.list({ project: this.project, zone, maxResults: 500 }, this.gax()));
        const machineTypes = (list ?? []).filter((m) => m.name && priced.has(m.name) && (!only?.length || only.includes(m.name)) && gcpGpu(m as GceMachineType)) as GceMachineType[];
        return { zone, machineTypes };
      }),
    );
    return gcpInstanceTypes({ region, zones: perZone, rows });
  }

  async createInstance(attrs: CreateInstanceAttrs): Promise<Instance> {
    const p = CreateInstanceAttrsSchema.safeParse(attrs);
    if (!p.success) throw invalidArgs('gcp createInstance', p.error);
    const a = p.data;
    const region = this.regionFor(a.location);
    const zone = a.subLocation || (await this.defaultZone(region, a.instanceType));
    if (regionOfZone(zone) !== region) throw new InvalidRequestError(`gcp: zone "${zone}" is not in region ${region}`);
    const name = instanceNameFor(a.refId, a.name);
    const tags: Tags = { ...a.tags };
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(tags)) if (LABEL_KEY_RE.test(k) && LABEL_VALUE_RE.test(v)) labels[k] = v;
    labels[GCP_LABEL_KEYS.refId] = labelValueFor(a.refId);
    labels[GCP_LABEL_KEYS.cloudCredRefId] = labelValueFor(this.getReferenceId());
    const items = [
      { key: GCP_METADATA_KEYS.sshKeys, value: sshKeysMetadata(a.publicKey) },
      { key: GCP_METADATA_KEYS.refId, value: a.refId },
      { key: GCP_METADATA_KEYS.cloudCredRefId, value: this.getReferenceId() },
      { key: GCP_METADATA_KEYS.name, value: a.name || a.refId },
      { key: GCP_METADATA_KEYS.tags, value: JSON.stringify(tags) },
      ...(a.userDataBase64 ? [{ key: GCP_METADATA_KEYS.userData, value: Buffer.from(a.userDataBase64, 'base64').toString('utf8') }] : []),
    ];
    const diskGb = a.diskSize ? Math.max(10, byteCountIn(a.diskSize, 'GiB')) : undefined;
    const instanceResource = {
      name,
      machineType: `zones/${zone}/machineTypes/${a.instanceType}`,
      labels,
      metadata: { items },
      disks: [
        {
          boot: true,
          autoDelete: true,
          type: 'PERSISTENT',
          initializeParams: { sourceImage: a.imageId || this.credential.image, diskType: `zones/${zone}/diskTypes/pd-balanced`, ...(diskGb ? { diskSizeGb: String(diskGb) } : {}) },
        },
      ],
      networkInterfaces: [{ network: 'global/networks/default', accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT' }] }],
      // GPU VMs cannot live-migrate: they must terminate on host maintenance.
      scheduling: a.useSpot
        ? { provisioningModel: 'SPOT', instanceTerminationAction: 'DELETE', onHostMaintenance: 'TERMINATE', automaticRestart: false }
        : { provisioningModel: 'STANDARD', onHostMaintenance: 'TERMINATE', automaticRestart: true },
    };
    try {
      const [op] = await this.call('instances.insert', zone, (c) => c.instances.insert({ project: this.project, zone, requestId: requestIdFor(a.refId, zone), instanceResource }, this.gax()));
      await this.waitOperation(zone, (op as { latestResponse?: GceOperation }).latestResponse ?? (op as unknown as GceOperation), 'instances.insert');
    } catch (e) {
      // The name is the refId's: an instance of that name is this create's, made by an earlier try.
      if (!(isCloudError(e) && e.code === 'INVALID_REQUEST' && /alreadyExists|already exists/i.test(e.message))) throw e;
      const prior = await this.getInstance(cloudIdOf(zone, name));
      if (prior.refId !== a.refId) throw new InvalidRequestError(`gcp ${zone}: instance ${name} exists for another refId (${prior.refId})`);
      return prior;
    }
    return this.getInstance(cloudIdOf(zone, name));
  }

  /** Waits for a zone operation to be DONE (zoneOperations.wait, repeated), and throws its error. */
  private async waitOperation(zone: string, op: GceOperation, what: string): Promise<GceOperation> {
    const deadline = Date.now() + this.credential.operationTimeoutMs;
    let cur = op;
    while (cur.status !== 'DONE' && Date.now() < deadline) {
      const [next] = await this.call('zoneOperations.wait', zone, (c) => c.zoneOperations.wait({ project: this.project, zone, operation: cur.name! }, this.gax()));
      cur = next as GceOperation;
    }
    const errors = cur.error?.errors ?? [];
    if (cur.status === 'DONE' && errors.length) throw gcpOperationError(errors, `gcp ${zone} ${what}`);
    if (cur.status !== 'DONE') this.credential.logger().warn({ zone, operation: cur.name, what }, 'gcp operation not done in time; going on');
    return cur;
  }

  /** The first zone (by name) where the catalog prices the type, for a create that names none. */
  private async defaultZone(region: string, type: string): Promise<string> {
    const t = (await this.getInstanceTypes({ locations: [region], instanceTypes: [type] }))[0];
    if (!t) throw new InvalidRequestError(`gcp: machine type ${type} is not offered in ${region} (per the catalog and machineTypes.list)`);
    return t.subLocation;
  }

  async getInstance(cloudId: string): Promise<Instance> {
    const id = parseCloudId(cloudId);
    if (!id) throw new InstanceNotFoundError(`gcp: ${cloudId} is not an instance ID of this adapter (<zone>/<name>)`);
    let raw: GceInstance;
    try {
      [raw] = (await this.call('instances.get', id.zone, (c) => c.instances.get({ project: this.project, zone: id.zone, instance: id.name }, this.gax()))) as [GceInstance, ...unknown[]];
    } catch (e) {
      if (!(e instanceof ResourceNotFoundError)) throw e;
      // Gone: preempted and deleted (instanceTerminationAction DELETE), or deleted.
      const op = await this.preemption(id.zone, id.name);
      const last = this.#lastSeen.get(cloudId);
      if (op) return preemptedInstance(last ?? this.minimalInstance(id.zone, id.name), op);
      throw asInstanceNotFound(e);
    }
    let ending: { kind: 'preempted'; at?: string } | undefined;
    const spot = raw.scheduling?.provisioningModel === 'SPOT' || raw.scheduling?.preemptible === true;
    if (spot && raw.status !== 'RUNNING' && raw.status !== 'PROVISIONING' && raw.status !== 'STAGING') {
      const op = await this.preemption(id.zone, id.name);
      if (op) ending = { kind: 'preempted', ...(op.endTime ? { at: op.endTime } : {}) };
    }
    const deleting = !ending && (raw.status === 'STOPPING' || raw.status === 'TERMINATED') && (this.#deleting.has(cloudId) || (await this.deletionsRunning(id.zone)).has(id.name));
    const inst = gcpInstance(raw, { testReplica: this.credential.testReplica, ...(ending ? { ending } : {}), deleting });
    this.#lastSeen.set(cloudId, inst);
    return inst;
  }

  /** Names of the zone's instances with a `delete` operation not yet DONE. */
  private async deletionsRunning(zone: string): Promise<Set<string>> {
    const [ops] = await this.call('zoneOperations.list', zone, (c) => c.zoneOperations.list({ project: this.project, zone, filter: 'operationType = "delete"' }, this.gax()));
    return new Set(((ops ?? []) as GceOperation[]).filter((o) => o.operationType === 'delete' && o.status !== 'DONE').map((o) => lastSegment(o.targetLink)));
  }

  /** The `compute.instances.preempted` operation of an instance in its zone, if Compute preempted it. */
  private async preemption(zone: string, name: string): Promise<GceOperation | undefined> {
    const [ops] = await this.call('zoneOperations.list', zone, (c) => c.zoneOperations.list({ project: this.project, zone, filter: `operationType = "${PREEMPTED_OPERATION_TYPE}"` }, this.gax()));
    return ((ops ?? []) as GceOperation[]).filter((o) => o.operationType === PREEMPTED_OPERATION_TYPE && lastSegment(o.targetLink) === name).sort((x, y) => (y.insertTime ?? '').localeCompare(x.insertTime ?? ''))[0];
  }

  private minimalInstance(zone: string, name: string): Instance {
    return gcpInstance({ name, zone, status: 'TERMINATED', scheduling: { provisioningModel: 'SPOT' } }, { testReplica: false });
  }

  async listInstances(args: ListInstancesArgs = {}): Promise<Instance[]> {
    const p = ListInstancesArgsSchema.safeParse(args);
    if (!p.success) throw invalidArgs('gcp listInstances', p.error);
    const a = p.data;
    if (a.instanceIds && a.instanceIds.length === 0) return [];
    const regions = this.#regions.filter((r) => isAllLocations(a.locations) || a.locations!.includes(r));
    // Tags that fit labels are filtered by Compute; all of them again here (metadata holds the exact values).
    const labelFilters = Object.entries(a.tagFilters ?? {}).filter(([k, vs]) => LABEL_KEY_RE.test(k) && vs.length === 1 && LABEL_VALUE_RE.test(vs[0]!));
    const filter = labelFilters.map(([k, vs]) => `(labels.${k} = "${vs[0]}")`).join(' ');
    const out: Instance[] = [];
    const c = await this.credential.compute();
    const pages = await callGce(
      async () => {
        const acc: GceInstance[] = [];
        for await (const [scope, list] of c.instances.aggregatedListAsync({ project: this.project, maxResults: 500, ...(filter ? { filter } : {}) }, this.gax())) {
          if (!scope.startsWith('zones/')) continue;
          for (const i of list.instances ?? []) acc.push(i as GceInstance);
        }
        return acc;
      },
      { what: `gcp ${this.project} instances.aggregatedList`, method: 'instances.aggregatedList', logger: this.credential.logger(), maxAttempts: this.credential.maxAttempts, backoffMs: this.credential.backoffMs },
    );
    const stoppingZones = [...new Set(pages.filter((r) => r.status === 'STOPPING' || r.status === 'TERMINATED').map((r) => lastSegment(r.zone)))];
    const deletions = new Map(await Promise.all(stoppingZones.map(async (z) => [z, await this.deletionsRunning(z)] as const)));
    for (const raw of pages) {
      const zone = lastSegment(raw.zone);
      const deleting = this.#deleting.has(cloudIdOf(zone, raw.name ?? '')) || (deletions.get(zone)?.has(raw.name ?? '') ?? false);
      const inst = gcpInstance(raw, { testReplica: this.credential.testReplica, deleting });
      if (!regions.includes(inst.location)) continue;
      if (a.instanceIds && !a.instanceIds.includes(inst.cloudId)) continue;
      if (a.tagFilters && !Object.entries(a.tagFilters).every(([k, vs]) => inst.tags[k] !== undefined && vs.includes(inst.tags[k]!))) continue;
      out.push(inst);
    }
    return out;
  }

  /** Idempotent: an instance that is gone or unknown is done. Does not wait for the deletion. */
  async terminateInstance(cloudId: string): Promise<void> {
    const id = parseCloudId(cloudId);
    if (!id) return;
    try {
      await this.call('instances.delete', id.zone, (c) => c.instances.delete({ project: this.project, zone: id.zone, instance: id.name, requestId: requestIdFor(cloudId, id.zone, 'delete') }, this.gax()));
      this.#deleting.add(cloudId);
    } catch (e) {
      if (e instanceof ResourceNotFoundError) return;
      throw e;
    }
  }

  async rebootInstance(cloudId: string): Promise<void> {
    const id = parseCloudId(cloudId);
    if (!id) throw new InstanceNotFoundError(`gcp: ${cloudId} is not an instance ID of this adapter`);
    try {
      const [op] = await this.call('instances.reset', id.zone, (c) => c.instances.reset({ project: this.project, zone: id.zone, instance: id.name, requestId: requestIdFor(`${cloudId}#${Date.now()}`, id.zone, 'reset') }, this.gax()));
      await this.waitOperation(id.zone, (op as { latestResponse?: GceOperation }).latestResponse ?? (op as unknown as GceOperation), 'instances.reset');
    } catch (e) {
      throw isCloudError(e) ? asInstanceNotFound(e) : e;
    }
  }

  /** Merges tags into the instance's `gpuflow-tags` metadata (setMetadata with its fingerprint); identity cannot change. */
  async updateInstanceTags(args: { instanceId: string; tags: Tags }): Promise<void> {
    const tags = TagsSchema.parse(args.tags);
    for (const k of Object.keys(tags)) {
      if (k === GCP_LABEL_KEYS.refId || k === GCP_LABEL_KEYS.cloudCredRefId) throw new InvalidRequestError(`gcp: tag ${k} is the instance's identity and cannot be changed`);
    }
    const id = parseCloudId(args.instanceId);
    if (!id) throw new InstanceNotFoundError(`gcp: ${args.instanceId} is not an instance ID of this adapter`);
    for (let attempt = 1; ; attempt++) {
      const [raw] = (await this.call('instances.get', id.zone, (c) => c.instances.get({ project: this.project, zone: id.zone, instance: id.name }, this.gax()))) as [GceInstance & { metadata?: { fingerprint?: string | null } }, ...unknown[]];
      const meta = metadataItems(raw);
      const merged = { ...(JSON.parse(meta[GCP_METADATA_KEYS.tags] || '{}') as Tags), ...tags };
      const items = Object.entries({ ...meta, [GCP_METADATA_KEYS.tags]: JSON.stringify(merged) }).map(([key, value]) => ({ key, value }));
      try {
        const [op] = await this.call('instances.setMetadata', id.zone, (c) =>
          c.instances.setMetadata({ project: this.project, zone: id.zone, instance: id.name, metadataResource: { fingerprint: raw.metadata?.fingerprint ?? null, items } }, this.gax()),
        );
        await this.waitOperation(id.zone, (op as { latestResponse?: GceOperation }).latestResponse ?? (op as unknown as GceOperation), 'instances.setMetadata');
        return;
      } catch (e) {
        // A fingerprint another writer moved on (412 conditionNotMet): read again and retry.
        if (attempt < 3 && isCloudError(e) && /conditionNotMet|fingerprint/i.test(e.message)) continue;
        throw e instanceof ServiceUnavailableError ? e : isCloudError(e) ? asInstanceNotFound(e) : e;
      }
    }
  }
}

