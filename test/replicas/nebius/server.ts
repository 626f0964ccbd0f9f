/**
 * A stateful replica of Nebius Compute v1's gRPC API (nebius.compute.v1.InstanceService and
 * nebius.common.v1.OperationService), served by @grpc/grpc-js from the same vendored protos the
 * adapter loads (src/providers/nebius/protos, nebius/api at the commit in its README). Each
 * instance is a real sshd machine of a local cloud (BackingCloud), so a workload runs end to end.
 *
 * What it checks and answers as Nebius does: `authorization: Bearer <token>` metadata
 * (UNAUTHENTICATED), the project (PERMISSION_DENIED for another tenant's), required fields and
 * the subnet of the project (INVALID_ARGUMENT), platform and preset (INVALID_ARGUMENT), names
 * unique per project (ALREADY_EXISTS), GPU quota per region (RESOURCE_EXHAUSTED "Quota exceeded"
 * at Create) and capacity per platform (the Create operation finishing RESOURCE_EXHAUSTED "not
 * enough resources"), NOT_FOUND, long-running Operations (`finished_at` unset until done),
 * preemption of `preemptible` instances (STOP: state STOPPED, `spec.stopped` still false). See README.md.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';
import { parse as parseYaml } from 'yaml';
import { PROTO_FILES, PROTO_LOADER_OPTIONS, type InstanceState } from '../../../src/providers/nebius/api.js';
import { DEFAULT_NEBIUS_PRICE_FILE, parseNebiusPriceCsv } from '../../../src/providers/nebius/catalog.js';
import { BackingCloud } from '../shared.js';

type Ts = { seconds: string; nanos: number };
function now(): Ts {
  const ms = Date.now();
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
}
function newId(prefix: string): string {
  return `${prefix}-e00${randomBytes(8).toString('hex').slice(0, 15)}`;
}

export interface ReplicaNebiusInstance {
  metadata: { id: string; parentId: string; name: string; resourceVersion: string; createdAt: Ts; updatedAt: Ts; labels: Record<string, string> };
  spec: Record<string, unknown> & { resources: { platform: string; preset: string }; stopped: boolean; preemptible?: { onPreemption: string } | null; cloudInitUserData: string };
  status: { state: InstanceState; reconciling: boolean; networkInterfaces: { index: number; name: string; ipAddress: { address: string }; publicIpAddress: { address: string } | null }[] };
  backingId: string;
  publicKey: string;
  gpus: number;
  region: string;
  /** The request as received (proto-loader's JS mapping). */
  request: Record<string, unknown>;
}

interface ReplicaOperation {
  id: string;
  description: string;
  createdAt: Ts;
  createdBy: string;
  finishedAt: Ts | null;
  resourceId: string;
  status: { code: number; message: string; details: unknown[] } | null;
}

export interface NebiusReplicaOptions {
  localCloud: { url: string; token: string };
  /** The IAM token calls must carry. */
  token: string;
  /** projectId → region and the subnet of that project. */
  projects: Record<string, { region: string; subnetId: string }>;
  backing?: { type: string; location: string };
  /** GPUs per region the tenant may run; default unlimited. */
  gpuQuota?: Record<string, number>;
}

export interface NebiusReplicaAdmin {
  /** The instance, deleted ones included (their last state). */
  instance(id: string): ReplicaNebiusInstance | undefined;
  /** Whether the instance still exists (not deleted). */
  exists(id: string): boolean;
  /** Every instance ever created, deleted ones included. */
  everInstances(): ReplicaNebiusInstance[];
  /** Create operations of this platform in this region finish RESOURCE_EXHAUSTED (no capacity). */
  capacityOff(platform: string, region: string): void;
  capacityOn(platform: string, region: string): void;
  setGpuQuota(region: string, gpus: number): void;
  /** The next `count` calls of `method` (e.g. "Create") fail with this gRPC status. */
  failNext(method: string, code: grpc.status, message: string, count?: number): void;
  /** The next List answers from before the newest instance was made (a listing that lags a create). */
  staleListNext(): void;
  /** Nebius takes a preemptible instance back: its machine goes, it is STOPPED. */
  preempt(id: string): Promise<void>;
  /** Calls received, by method; and the authorization values seen (to check no other secret travels). */
  calls(): { method: string; code: grpc.status }[];
}

export interface NebiusReplicaHandle {
  /** host:port for the adapter's `endpoint` (plaintext). */
  endpoint: string;
  admin: NebiusReplicaAdmin;
  close(): Promise<void>;
}

class Fail extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

/** The first SSH key of the cloud-init user data's users (what cloud-init would install). */
function sshKeyOf(userData: string): string | undefined {
  try {
    const doc = parseYaml(userData) as { users?: { ssh_authorized_keys?: string[] }[] } | null;
    return doc?.users?.find((u) => u.ssh_authorized_keys?.length)?.ssh_authorized_keys?.[0];
  } catch {
    return undefined;
  }
}

export async function startNebiusReplica(opts: NebiusReplicaOptions): Promise<NebiusReplicaHandle> {
  const def = await loader.load(PROTO_FILES, PROTO_LOADER_OPTIONS);
  const root = grpc.loadPackageDefinition(def) as unknown as { nebius: { compute: { v1: Record<string, { service: grpc.ServiceDefinition }> }; common: { v1: Record<string, { service: grpc.ServiceDefinition }> } } };
  const rows = parseNebiusPriceCsv(readFileSync(DEFAULT_NEBIUS_PRICE_FILE, 'utf8'));
  const backing = new BackingCloud(opts.localCloud, opts.backing, 'nebius');
  const instances = new Map<string, ReplicaNebiusInstance>();
  const ever: ReplicaNebiusInstance[] = [];
  const operations = new Map<string, ReplicaOperation>();
  const noCapacity = new Set<string>();
  const quota: Record<string, number> = { ...opts.gpuQuota };
  const faults: { method: string; code: grpc.status; message: string; count: number }[] = [];
  const calls: { method: string; code: grpc.status }[] = [];
  const pending = new Set<Promise<unknown>>();
  let staleLists = 0;

  function track(p: Promise<unknown>): void {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }

  function operation(resourceId: string, description: string): ReplicaOperation {
    const op: ReplicaOperation = { id: newId('computeoperation'), description, createdAt: now(), createdBy: 'serviceaccount-e00replica', finishedAt: null, resourceId, status: null };
    operations.set(op.id, op);
    return op;
  }
  function finish(op: ReplicaOperation, code = grpc.status.OK, message = ''): void {
    op.finishedAt = now();
    op.status = { code, message, details: [] };
  }

  function authorize(call: grpc.ServerUnaryCall<unknown, unknown>): void {
    const auth = call.metadata.get('authorization')[0];
    if (auth !== `Bearer ${opts.token}`) throw new Fail(grpc.status.UNAUTHENTICATED, 'invalid or missing IAM token');
  }
  function projectOf(parentId: string): { region: string; subnetId: string } {
    if (!parentId) throw new Fail(grpc.status.INVALID_ARGUMENT, 'metadata.parent_id: value is required');
    const p = opts.projects[parentId];
    if (!p) throw new Fail(grpc.status.PERMISSION_DENIED, `permission denied for resource ${parentId}`);
    return p;
  }
  function find(id: string): ReplicaNebiusInstance {
    const i = instances.get(id);
    if (!i) throw new Fail(grpc.status.NOT_FOUND, `resource ${id} not found`);
    return i;
  }

  /** Brings an instance's state up to date with its backing machine. */
  async function refresh(i: ReplicaNebiusInstance): Promise<void> {
    if (!i.backingId || (i.status.state !== 'STARTING' && i.status.state !== 'RUNNING')) return;
    const b = await backing.get(i.backingId);
    const nic = i.status.networkInterfaces[0]!;
    if (b) {
      if (b.publicIp) nic.publicIpAddress = { address: `${b.publicIp}/32` };
      if (b.sshPort) i.metadata.labels['gpuflow-replica-ssh-port'] = String(b.sshPort);
      if (b.sshUser) i.metadata.labels['gpuflow-replica-ssh-user'] = b.sshUser;
    }
    const bs = b?.status.lifecycleStatus;
    if (i.status.state === 'STARTING' && bs === 'running') i.status.state = 'RUNNING';
    else if (i.status.state === 'RUNNING' && (!b || bs === 'terminated' || bs === 'failed')) i.status.state = 'ERROR';
  }

  function boot(i: ReplicaNebiusInstance, op: ReplicaOperation): void {
    i.status.state = 'STARTING';
    track(
      backing
        .create(`${i.metadata.id}-${Date.now()}`, i.metadata.name, i.publicKey)
        .then((b) => {
          i.backingId = b.cloudId;
          finish(op);
        })
        .catch((e: Error) => {
          i.status.state = 'ERROR';
          finish(op, grpc.status.INTERNAL, `instance start failed: ${e.message}`);
        }),
    );
  }

  function halt(i: ReplicaNebiusInstance): Promise<void> {
    const id = i.backingId;
    i.backingId = '';
    i.status.networkInterfaces[0]!.publicIpAddress = null;
    delete i.metadata.labels['gpuflow-replica-ssh-port'];
    return id ? backing.terminate(id).catch(() => undefined) : Promise.resolve();
  }

  function gpusInUse(region: string): number {
    return [...instances.values()].filter((x) => x.region === region && x.status.state !== 'STOPPED').reduce((n, x) => n + x.gpus, 0);
  }

  function create(req: { metadata?: { parentId?: string; name?: string; labels?: Record<string, string> }; spec?: ReplicaNebiusInstance['spec'] & { bootDisk?: { managedDisk?: unknown; existingDisk?: unknown }; networkInterfaces?: { subnetId?: string }[] } }): ReplicaOperation {
    const md = req.metadata ?? {};
    const project = projectOf(md.parentId ?? '');
    const spec = req.spec;
    if (!md.name) throw new Fail(grpc.status.INVALID_ARGUMENT, 'metadata.name: value is required');
    if (!spec?.resources?.platform) throw new Fail(grpc.status.INVALID_ARGUMENT, 'spec.resources.platform: value is required');
    if (!spec.bootDisk?.managedDisk && !spec.bootDisk?.existingDisk) throw new Fail(grpc.status.INVALID_ARGUMENT, 'spec.boot_disk: value is required');
    const nic = spec.networkInterfaces?.[0];
    if (!nic?.subnetId) throw new Fail(grpc.status.INVALID_ARGUMENT, 'spec.network_interfaces: at least one network interface with subnet_id is required');
    if (nic.subnetId !== project.subnetId) throw new Fail(grpc.status.NOT_FOUND, `subnet ${nic.subnetId} not found in project ${md.parentId}`);
    const platformRows = rows.filter((r) => r.platform === spec.resources.platform && r.region === project.region);
    if (platformRows.length === 0) throw new Fail(grpc.status.INVALID_ARGUMENT, `platform ${spec.resources.platform} is not available in region ${project.region}`);
    const row = platformRows.find((r) => r.preset === spec.resources.preset);
    if (!row) throw new Fail(grpc.status.INVALID_ARGUMENT, `preset ${spec.resources.preset} is not available for platform ${spec.resources.platform}; available: ${platformRows.map((r) => r.preset).join(', ')}`);
    if ([...instances.values()].some((x) => x.metadata.parentId === md.parentId && x.metadata.name === md.name)) throw new Fail(grpc.status.ALREADY_EXISTS, `instance with name ${md.name} already exists in ${md.parentId}`);
    const limit = quota[project.region];
    if (limit !== undefined && gpusInUse(project.region) + row.gpuCount > limit) {
      throw new Fail(grpc.status.RESOURCE_EXHAUSTED, `Quota exceeded: compute.instance.gpu.${row.acceleratorName.toLowerCase()} in ${project.region}: limit ${limit}, requested ${row.gpuCount}`);
    }
    const publicKey = sshKeyOf(spec.cloudInitUserData ?? '');
    if (!publicKey) throw new Fail(grpc.status.INVALID_ARGUMENT, 'spec.cloud_init_user_data: the replica needs a users[].ssh_authorized_keys entry to boot its machine');
    const t = now();
    const i: ReplicaNebiusInstance = {
      metadata: { id: newId('computeinstance'), parentId: md.parentId!, name: md.name, resourceVersion: '1', createdAt: t, updatedAt: t, labels: { ...md.labels } },
      spec: { ...spec, stopped: false },
      status: { state: 'CREATING', reconciling: true, networkInterfaces: [{ index: 0, name: 'eth0', ipAddress: { address: `10.0.0.${(ever.length % 250) + 2}/32` }, publicIpAddress: null }] },
      backingId: '',
      publicKey,
      gpus: row.gpuCount,
      region: project.region,
      request: req as Record<string, unknown>,
    };
    const op = operation(i.metadata.id, 'Create instance');
    if (noCapacity.has(`${row.platform}/${project.region}`)) {
      // Nebius accepts the request and fails the operation: the platform has no free hosts.
      finish(op, grpc.status.RESOURCE_EXHAUSTED, `not enough resources to allocate instance of platform ${row.platform} preset ${row.preset} in ${project.region}`);
      return op;
    }
    instances.set(i.metadata.id, i);
    ever.push(i);
    boot(i, op);
    return op;
  }

  function remove(i: ReplicaNebiusInstance): ReplicaOperation {
    const op = operation(i.metadata.id, 'Delete instance');
    i.status.state = 'DELETING';
    track(
      halt(i).then(() => {
        instances.delete(i.metadata.id);
        finish(op);
      }),
    );
    return op;
  }

  const handlers: Record<string, (req: never) => Promise<unknown> | unknown> = {
    Get: async (req: { id: string }) => {
      const i = find(req.id);
      await refresh(i);
      return i;
    },
    GetByName: async (req: { parentId: string; name: string }) => {
      projectOf(req.parentId);
      const i = [...instances.values()].find((x) => x.metadata.parentId === req.parentId && x.metadata.name === req.name);
      if (!i) throw new Fail(grpc.status.NOT_FOUND, `instance ${req.name} not found in ${req.parentId}`);
      await refresh(i);
      return i;
    },
    List: async (req: { parentId: string; pageSize: string; pageToken: string }) => {
      projectOf(req.parentId);
      const newest = staleLists > 0 ? ever[ever.length - 1] : undefined;
      if (staleLists > 0) staleLists--;
      const all = [...instances.values()].filter((x) => x.metadata.parentId === req.parentId && x !== newest).sort((a, b) => a.metadata.id.localeCompare(b.metadata.id));
      await Promise.all(all.map(refresh));
      const size = Math.min(Number(req.pageSize) || 100, 1000);
      const start = req.pageToken ? Number(Buffer.from(req.pageToken, 'base64url').toString()) : 0;
      if (!Number.isInteger(start) || start < 0) throw new Fail(grpc.status.INVALID_ARGUMENT, 'page_token: invalid');
      const items = all.slice(start, start + size);
      return { items, nextPageToken: start + size < all.length ? Buffer.from(String(start + size)).toString('base64url') : '' };
    },
    Create: (req: Parameters<typeof create>[0]) => create(req),
    Delete: (req: { id: string }) => remove(find(req.id)),
    Stop: (req: { id: string }) => {
      const i = find(req.id);
      const op = operation(i.metadata.id, 'Stop instance');
      i.spec.stopped = true;
      i.status.state = 'STOPPING';
      track(halt(i).then(() => ((i.status.state = 'STOPPED'), finish(op))));
      return op;
    },
    Start: (req: { id: string }) => {
      const i = find(req.id);
      if (i.status.state !== 'STOPPED') throw new Fail(grpc.status.FAILED_PRECONDITION, `instance ${i.metadata.id} is ${i.status.state}, not STOPPED`);
      const op = operation(i.metadata.id, 'Start instance');
      i.spec.stopped = false;
      boot(i, op);
      return op;
    },
  };

  function unary(method: string, fn: (req: never) => Promise<unknown> | unknown): grpc.handleUnaryCall<unknown, unknown> {
    return (call, callback) => {
      void (async () => {
        try {
          authorize(call);
          const f = faults.find((x) => x.method === method && x.count > 0);
          if (f) {
            f.count--;
            throw new Fail(f.code, f.message);
          }
          const r = await fn(call.request as never);
          calls.push({ method, code: grpc.status.OK });
          callback(null, r);
        } catch (e) {
          const code = e instanceof Fail ? e.code : grpc.status.INTERNAL;
          calls.push({ method, code });
          callback({ code, details: e instanceof Error ? e.message : String(e) } as grpc.ServiceError);
        }
      })();
    };
  }

  const server = new grpc.Server();
  const instanceImpl: grpc.UntypedServiceImplementation = {};
  for (const [m, fn] of Object.entries(handlers)) instanceImpl[m] = unary(m, fn);
  for (const m of ['BatchGet', 'ListInstancesByNVLInstanceGroup', 'Update', 'ListOperationsByParent']) instanceImpl[m] = unary(m, () => Promise.reject(new Fail(grpc.status.UNIMPLEMENTED, `${m} is not covered by the replica`)));
  server.addService(root.nebius.compute.v1.InstanceService!.service, instanceImpl);
  server.addService(root.nebius.common.v1.OperationService!.service, {
    Get: unary('Operation.Get', (req: { id: string }) => {
      const op = operations.get(req.id);
      if (!op) throw new Fail(grpc.status.NOT_FOUND, `operation ${req.id} not found`);
      return op;
    }),
    List: unary('Operation.List', (req: { resourceId: string }) => ({ operations: [...operations.values()].filter((o) => o.resourceId === req.resourceId), nextPageToken: '' })),
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));

  const admin: NebiusReplicaAdmin = {
    instance: (id) => instances.get(id) ?? ever.find((x) => x.metadata.id === id),
    exists: (id) => instances.has(id),
    everInstances: () => [...ever],
    capacityOff: (platform, region) => void noCapacity.add(`${platform}/${region}`),
    capacityOn: (platform, region) => void noCapacity.delete(`${platform}/${region}`),
    setGpuQuota: (region, gpus) => void (quota[region] = gpus),
    staleListNext: () => void staleLists++,
    failNext: (method, code, message, count = 1) => void faults.push({ method, code, message, count }),
    async preempt(id) {
      const i = find(id);
      if (!i.spec.preemptible) throw new Error(`replica: ${id} is not preemptible`);
      i.status.state = 'STOPPING';
      await halt(i);
      i.status.state = 'STOPPED';
    },
    calls: () => [...calls],
  };

  return {
    endpoint: `127.0.0.1:${port}`,
    admin,
    async close() {
      await Promise.allSettled([...pending]);
      await Promise.all([...instances.values()].map((i) => halt(i)));
      await new Promise<void>((r) => server.tryShutdown(() => r()));
    },
  };
}
