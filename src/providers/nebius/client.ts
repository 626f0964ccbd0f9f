/**
 * The Nebius adapter: the provider contract over Compute v1's gRPC API (nebius.compute.v1.
 * InstanceService, nebius.common.v1.OperationService) through @grpc/grpc-js on the published protos.
 *
 * - Catalog (./catalog.ts): the price table's GPU platform/preset rows in the configured regions.
 * - Create: first a List of the region's project looking for the refId's label (a create that
 *   already ran returns that instance); then one Create with the refId-derived name (Nebius names
 *   are unique per project: a repeat is ALREADY_EXISTS, answered with GetByName), a managed boot
 *   disk from the image family, cloud-init with the SSH key, identity in labels, `preemptible:
 *   {on_preemption: STOP}` for spot. The returned Operation is polled until `finished_at`; its
 *   `status` carries capacity and quota failures.
 * - Preemption: a preemptible instance Nebius stopped (state STOPPING/STOPPED while `spec.stopped`
 *   is false: nobody asked) is `interruption: preempted`.
 * - Errors (./errors.ts): gRPC status codes; UNAVAILABLE/DEADLINE_EXCEEDED retried with backoff.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Client, Metadata as GrpcMetadata } from '@grpc/grpc-js';
import { stringify as toYaml } from 'yaml';
import type { Capability } from '../sdk/capabilities.js';
import type { CloudClient } from '../sdk/client.js';
import { invalidArgs } from '../sdk/clientArgs.js';
import { CredentialBoundClient } from '../sdk/credentialBoundClient.js';
import { bytes, byteCountIn } from '../sdk/bytes.js';
import { InvalidRequestError, isCloudError, ResourceNotFoundError } from '../sdk/errors.js';
import { makeGenericInstanceTypeIdFromInstance } from '../sdk/ids.js';
import {
  CreateInstanceAttrsSchema,
  GetInstanceTypesArgsSchema,
  isAllLocations,
  isSelectedByArgs,
  ListInstancesArgsSchema,
  type CreateInstanceAttrs,
  type GetInstanceTypesArgs,
  type Instance,
  type InstanceStatus,
  type InstanceType,
  type LifecycleStatus,
  type ListInstancesArgs,
  type Location,
} from '../sdk/types.js';
import { DEFAULT_BOOT_DISK_GIB, DEFAULT_SSH_USER, isoOf, loadNebiusServices, NEBIUS_LABEL_KEYS, REPLICA_LABEL_KEYS, type InstanceState, type NebiusInstance, type NebiusOperation } from './api.js';
import { nebiusInstanceTypes, parseNebiusPriceCsv, splitNebiusType, type NebiusPriceRow } from './catalog.js';
import { NEBIUS_LOGGER, type NebiusCredential } from './credential.js';
import { asInstanceNotFound, asNebiusError, GrpcStatus, isGrpcError, nebiusErrorFrom } from './errors.js';
import { NEBIUS_REGIONS, nebiusRegionCountry } from './regions.js';

/** Not declared: reboot (Compute v1 has no reset), tags (labels are set at create only here), firewall. */
export const NEBIUS_CAPABILITIES: readonly Capability[] = ['create-instance', 'create-instance-idempotent', 'terminate-instance', 'create-terminate-instance', 'instance-userdata', 'stop-start-instance'];

const STATE: Readonly<Record<InstanceState, LifecycleStatus>> = {
  UNSPECIFIED: 'pending',
  CREATING: 'pending',
  STARTING: 'pending',
  UPDATING: 'pending',
  RUNNING: 'running',
  STOPPING: 'stopping',
  STOPPED: 'stopped',
  DELETING: 'terminating',
  ERROR: 'failed',
};

/** A label value: itself when it fits Nebius's 63 characters, else `h-` + its hash. */
export function labelValueFor(v: string): string {
  return /^[A-Za-z0-9_.@-]{1,63}$/.test(v) ? v : `h-${createHash('sha256').update(v).digest('hex').slice(0, 40)}`;
}

/** The instance name for a refId: `gpuflow-` + a hash (names are unique per project, so a repeat create collides). */
export function instanceNameFor(refId: string): string {
  return `gpuflow-${createHash('sha256').update(refId).digest('hex').slice(0, 20)}`;
}

/** cloud-init user data: the SSH user with the key and passwordless sudo; the caller's script run once by runcmd. */
export function cloudInitFor(publicKey: string, userScript: string, user = DEFAULT_SSH_USER): string {
  const config: Record<string, unknown> = {
    users: [{ name: user, sudo: 'ALL=(ALL) NOPASSWD:ALL', shell: '/bin/bash', ssh_authorized_keys: [publicKey.trim()] }],
  };
  if (userScript) {
    config.write_files = [{ path: '/var/lib/gpuflow/user-data', permissions: '0700', content: userScript }];
    config.runcmd = [['/var/lib/gpuflow/user-data']];
  }
  return `#cloud-config\n${toYaml(config, { lineWidth: 0 })}`;
}

/** Whether Nebius, not the user, stopped a preemptible instance. */
export function isPreempted(i: NebiusInstance): boolean {
  const s = i.status?.state;
  return !!i.spec?.preemptible && !i.spec.stopped && (s === 'STOPPING' || s === 'STOPPED');
}

export function nebiusStatus(i: NebiusInstance): InstanceStatus {
  const lifecycleStatus = STATE[i.status?.state ?? 'UNSPECIFIED'] ?? 'failed';
  if (isPreempted(i)) return { lifecycleStatus, messages: ['Instance was preempted (on_preemption: STOP).'], interruption: 'preempted' };
  return { lifecycleStatus, messages: [] };
}

/** A CIDR ("1.2.3.4/32") or bare address → the address. */
function addressOf(a: string | undefined): string {
  return (a ?? '').split('/')[0] ?? '';
}

export function nebiusInstance(i: NebiusInstance, region: string, opts: { testReplica: boolean }): Instance {
  const md = i.metadata!;
  const labels = md.labels ?? {};
  const type = `${i.spec?.resources?.platform ?? 'unknown'}_${i.spec?.resources?.preset ?? ''}`;
  const nic = i.status?.networkInterfaces?.[0];
  const status = nebiusStatus(i);
  const replicaPort = opts.testReplica ? Number(labels[REPLICA_LABEL_KEYS.sshPort] ?? '') : NaN;
  const diskGib = Number(i.spec?.bootDisk?.managedDisk?.spec?.sizeGibibytes ?? NaN);
  const spot = !!i.spec?.preemptible;
  return {
    name: labels[NEBIUS_LABEL_KEYS.name] ?? md.name,
    refId: labels[NEBIUS_LABEL_KEYS.refId] ?? md.name,
    cloudCredRefId: labels[NEBIUS_LABEL_KEYS.cloudCredRefId] ?? 'unknown',
    createdAt: isoOf(md.createdAt) ?? new Date(0).toISOString(),
    cloudId: md.id,
    publicIp: status.lifecycleStatus === 'running' ? addressOf(nic?.publicIpAddress?.address) : '',
    publicDns: '',
    privateIp: addressOf(nic?.ipAddress?.address),
    hostname: i.spec?.hostname || md.name,
    imageId: '',
    instanceType: type,
    instanceTypeId: makeGenericInstanceTypeIdFromInstance({ location: region, subLocation: '', instanceType: type }),
    ...(Number.isFinite(diskGib) && diskGib > 0 ? { diskSize: bytes(diskGib, 'GiB') } : {}),
    sshUser: (opts.testReplica ? labels[REPLICA_LABEL_KEYS.sshUser] : undefined) ?? DEFAULT_SSH_USER,
    sshPort: Number.isInteger(replicaPort) && replicaPort > 0 ? replicaPort : 22,
    status,
    spot,
    firewallRules: { ingressRules: [], egressRules: [] },
    location: region,
    subLocation: '',
    tags: {},
    stoppable: true,
    rebootable: false,
    isContainer: false,
    notPrivileged: opts.testReplica,
  };
}

type Unary = (req: unknown, md: GrpcMetadata, opts: { deadline: number }, cb: (e: Error | null, r: unknown) => void) => void;

export class NebiusClient extends CredentialBoundClient<NebiusCredential> implements CloudClient {
  #rows: NebiusPriceRow[] | undefined;
  #stubs: Promise<{ instances: Client; operations: Client; metadata: GrpcMetadata }> | undefined;

  constructor(credential: NebiusCredential, location: string) {
    super(credential, location);
  }

  getInstanceTypePollTimeMs(): number {
    return 5 * 60_000;
  }
  getInstancePollTimeMs(): number {
    return this.credential.instancePollMs;
  }
  getMaxCreateRequestsPerMinute(): number {
    return 60;
  }

  private stubs() {
    this.#stubs ??= (async () => {
      const [grpc, s] = await Promise.all([import('@grpc/grpc-js'), loadNebiusServices()]);
      const creds = this.credential.tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure();
      const metadata = new grpc.Metadata();
      metadata.set('authorization', `Bearer ${this.credential.iamToken}`);
      return { instances: new s.InstanceService(this.credential.endpoint, creds), operations: new s.OperationService(this.credential.endpoint, creds), metadata };
    })();
    return this.#stubs;
  }

  /** One unary call with a deadline; retryable statuses retried with jittered backoff. */
  private async call<T>(service: 'instances' | 'operations', method: string, req: unknown): Promise<T> {
    const what = `nebius ${service === 'instances' ? 'InstanceService' : 'OperationService'}.${method}`;
    const st = await this.stubs();
    for (let attempt = 1; ; attempt++) {
      NEBIUS_LOGGER().debug({ what, method, attempt }, 'nebius api call');
      try {
        return await new Promise<T>((resolve, reject) => {
          const fn = (st[service] as unknown as Record<string, Unary>)[method]!.bind(st[service]);
          fn(req, st.metadata, { deadline: Date.now() + this.credential.timeoutMs }, (e, r) => (e ? reject(e) : resolve(r as T)));
        });
      } catch (e) {
        const err = asNebiusError(e, what);
        if (!(isCloudError(err) && err.retryable) || attempt >= this.credential.maxAttempts) throw err;
        const wait = Math.min(8_000, this.credential.backoffMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
        NEBIUS_LOGGER().warn({ what, attempt, waitMs: Math.round(wait), code: isGrpcError(e) ? GrpcStatus[e.code] : undefined }, 'nebius call failed; retrying');
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  private rows(): NebiusPriceRow[] {
    if (!this.#rows) {
      let text: string;
      try {
        text = readFileSync(this.credential.priceFile, 'utf8');
      } catch (e) {
        throw new InvalidRequestError(`nebius: no price table at ${this.credential.priceFile} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); set the connection's priceFile to a SkyPilot-layout Nebius vms.csv`);
      }
      this.#rows = parseNebiusPriceCsv(text);
    }
    return this.#rows;
  }

  private regionsOf(locations: string[] | undefined): string[] {
    return this.credential.regions.filter((r) => (isAllLocations(locations) || locations!.includes(r)));
  }

  async getLocations(args?: { includeUnavailable?: boolean }): Promise<Location[]> {
    void args;
    return this.regionsOf(undefined).map((r) => ({ name: r, description: NEBIUS_REGIONS[r]!.location, available: true, priority: 0, country: nebiusRegionCountry(r)!, endpoint: this.credential.endpoint }));
  }

  async getInstanceTypes(args: GetInstanceTypesArgs = {}): Promise<InstanceType[]> {
    const p = GetInstanceTypesArgsSchema.safeParse(args);
    if (!p.success) throw invalidArgs('nebius getInstanceTypes', p.error);
    return nebiusInstanceTypes(this.rows(), this.regionsOf(p.data.locations)).filter((t) => isSelectedByArgs(t, p.data));
  }

  private async listProject(projectId: string): Promise<NebiusInstance[]> {
    const out: NebiusInstance[] = [];
    let pageToken = '';
    do {
      const r = await this.call<{ items: NebiusInstance[]; nextPageToken: string }>('instances', 'List', { parentId: projectId, pageSize: 200, pageToken });
      out.push(...r.items);
      pageToken = r.nextPageToken;
    } while (pageToken);
    return out;
  }

  async createInstance(attrs: CreateInstanceAttrs): Promise<Instance> {
    const p = CreateInstanceAttrsSchema.safeParse(attrs);
    if (!p.success) throw invalidArgs('nebius createInstance', p.error);
    const a = p.data;
    const project = this.credential.projects[a.location];
    if (!project) throw new InvalidRequestError(`nebius: location "${a.location}" is not a region of connection ${this.getReferenceId()} (${this.credential.regions.join(', ')})`);
    const parts = splitNebiusType(a.instanceType);
    if (!parts) throw new InvalidRequestError(`nebius: instanceType "${a.instanceType}" is not <platform>_<preset> such as gpu-h100-sxm_1gpu-16vcpu-200gb`);
    const refLabel = labelValueFor(a.refId);
    // Idempotency: an earlier try of this create may have made the instance already.
    const prior = (await this.listProject(project.projectId)).find((i) => i.metadata?.labels?.[NEBIUS_LABEL_KEYS.refId] === refLabel && i.status?.state !== 'DELETING');
    if (prior) return nebiusInstance(prior, a.location, this.credential);
    const name = instanceNameFor(a.refId);
    const diskGib = a.diskSize ? Math.max(20, byteCountIn(a.diskSize, 'GiB')) : DEFAULT_BOOT_DISK_GIB;
    const request = {
      metadata: {
        parentId: project.projectId,
        name,
        labels: { [NEBIUS_LABEL_KEYS.refId]: refLabel, [NEBIUS_LABEL_KEYS.cloudCredRefId]: labelValueFor(this.getReferenceId()), [NEBIUS_LABEL_KEYS.name]: labelValueFor(a.name || a.refId) },
      },
      spec: {
        resources: { platform: parts.platform, preset: parts.preset },
        bootDisk: {
          attachMode: 'READ_WRITE',
          managedDisk: { name: `${name}-boot`, spec: { sizeGibibytes: String(diskGib), type: 'NETWORK_SSD', ...(a.imageId ? { sourceImageId: a.imageId } : { sourceImageFamily: { imageFamily: this.credential.imageFamily } }) } },
        },
        networkInterfaces: [{ name: 'eth0', subnetId: project.subnetId, ipAddress: {}, publicIpAddress: {} }],
        cloudInitUserData: cloudInitFor(a.publicKey, a.userDataBase64 ? Buffer.from(a.userDataBase64, 'base64').toString('utf8') : ''),
        ...(a.useSpot ? { preemptible: { onPreemption: 'STOP' } } : {}),
      },
    };
    let op: NebiusOperation;
    try {
      op = await this.call<NebiusOperation>('instances', 'Create', request);
    } catch (e) {
      if (!(isCloudError(e) && isGrpcError(e.cause) && e.cause.code === GrpcStatus.ALREADY_EXISTS)) throw e;
      // The name is the refId's: the instance is this create's, made by a try whose answer was lost.
      const existing = await this.call<NebiusInstance>('instances', 'GetByName', { parentId: project.projectId, name });
      const owner = existing.metadata?.labels?.[NEBIUS_LABEL_KEYS.refId];
      if (owner !== refLabel) throw new InvalidRequestError(`nebius ${a.location}: instance ${name} exists for another refId (${owner ?? 'unlabelled'}); delete it or use another refId`);
      return nebiusInstance(existing, a.location, this.credential);
    }
    const done = await this.waitOperation(op, 'Create');
    return this.getInstance(done.resourceId || op.resourceId);
  }

  /** Polls OperationService.Get until the operation has finished; throws its failure status. */
  private async waitOperation(op: NebiusOperation, what: string): Promise<NebiusOperation> {
    const deadline = Date.now() + this.credential.operationTimeoutMs;
    let cur = op;
    while (!cur.finishedAt && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, this.credential.operationPollMs));
      cur = await this.call<NebiusOperation>('operations', 'Get', { id: cur.id });
    }
    if (!cur.finishedAt) throw nebiusErrorFrom(GrpcStatus.DEADLINE_EXCEEDED, `operation ${cur.id} not finished after ${this.credential.operationTimeoutMs} ms`, `nebius ${what}`);
    if (cur.status && cur.status.code !== 0) throw nebiusErrorFrom(cur.status.code, cur.status.message, `nebius ${what} operation ${cur.id}`);
    return cur;
  }

  private regionOf(i: NebiusInstance): string | undefined {
    return this.credential.regionOfProject(i.metadata?.parentId ?? '');
  }

  async getInstance(cloudId: string): Promise<Instance> {
    let raw: NebiusInstance;
    try {
      raw = await this.call<NebiusInstance>('instances', 'Get', { id: cloudId });
    } catch (e) {
      throw asInstanceNotFound(e);
    }
    const region = this.regionOf(raw);
    if (!region) throw asInstanceNotFound(new ResourceNotFoundError(`nebius: instance ${cloudId} is in project ${raw.metadata?.parentId}, which connection ${this.getReferenceId()} does not map`));
    return nebiusInstance(raw, region, this.credential);
  }

  async listInstances(args: ListInstancesArgs = {}): Promise<Instance[]> {
    const p = ListInstancesArgsSchema.safeParse(args);
    if (!p.success) throw invalidArgs('nebius listInstances', p.error);
    const a = p.data;
    if (a.instanceIds && a.instanceIds.length === 0) return [];
    const regions = this.regionsOf(a.locations);
    const perRegion = await Promise.all(regions.map(async (r) => (await this.listProject(this.credential.projects[r]!.projectId)).map((i) => nebiusInstance(i, r, this.credential))));
    return perRegion.flat().filter((i) => (!a.instanceIds || a.instanceIds.includes(i.cloudId)) && (!a.tagFilters || Object.entries(a.tagFilters).every(([k, vs]) => i.tags[k] !== undefined && vs.includes(i.tags[k]!))));
  }

  /** Idempotent: a gone instance is done. Does not wait for the deletion. */
  async terminateInstance(cloudId: string): Promise<void> {
    try {
      await this.call('instances', 'Delete', { id: cloudId });
    } catch (e) {
      if (e instanceof ResourceNotFoundError) return;
      throw e;
    }
  }

  async stopInstance(cloudId: string): Promise<void> {
    try {
      await this.waitOperation(await this.call<NebiusOperation>('instances', 'Stop', { id: cloudId }), 'Stop');
    } catch (e) {
      throw asInstanceNotFound(e);
    }
  }

  async startInstance(cloudId: string): Promise<void> {
    try {
      await this.waitOperation(await this.call<NebiusOperation>('instances', 'Start', { id: cloudId }), 'Start');
    } catch (e) {
      throw asInstanceNotFound(e);
    }
  }
}
