/**
 * A stateful replica of the Compute Engine API v1 (REST, JSON) on 127.0.0.1, after Google's Compute
 * v1 discovery document (see README.md): paths under `/compute/v1/projects/{project}/…`, the
 * bearer token checked (a service account's self-signed RS256 JWT, verified against its public
 * key), Google's error body `{"error": {"code", "message", "errors": [{"message", "domain",
 * "reason"}]}}`, zone operations that run PENDING → RUNNING → DONE (with capacity and quota
 * failures in `Operation.error`, as Compute reports them), and instances whose machines are real
 * local cloud sshd instances. @google-cloud/compute talks to it unmodified.
 */
import { createPublicKey, createVerify, randomBytes, type KeyObject } from 'node:crypto';
import type http from 'node:http';
import type { Instance as BackingInstance } from '../../../src/providers/sdk/types.js';
import { BackingCloud, closeServer, readBody, ReplicaResponse, send, serveReplica, TokenBucket, type MalformFault, type RequestRecord } from '../shared.js';
import { GCP_REPLICA_MACHINE_TYPES, GCP_REPLICA_REGIONS, type ReplicaGcpRegion, type ReplicaMachineType } from './catalog.js';

/** The audience a self-signed JWT for Compute carries (google-auth-library's JWTAccess: `https://<service>/`). */
const AUDIENCE = 'https://compute.googleapis.com/';
/** Google refuses self-signed JWTs valid for more than an hour. */
const MAX_TOKEN_LIFETIME_S = 3600;
const CLOCK_SKEW_S = 300;

/** Google's error body (cloud.google.com/apis/design/errors; Compute's v1 `errors[]` entries). */
export class GceError extends ReplicaResponse {
  constructor(
    readonly httpStatus: number,
    readonly reason: string,
    message: string,
    domain = 'global',
  ) {
    const info = ERROR_INFO[reason];
    super(httpStatus, {
      error: {
        code: httpStatus,
        message,
        errors: [{ message, domain, reason }],
        ...(info ? { details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: info.reason, domain: info.domain, metadata: { service: 'compute.googleapis.com' } }] } : {}),
      },
    });
  }
}

/** The `google.rpc.ErrorInfo` Google adds next to the legacy `errors[]` for these (Google's error model). */
const ERROR_INFO: Record<string, { reason: string; domain: string }> = {
  forbidden: { reason: 'IAM_PERMISSION_DENIED', domain: 'iam.googleapis.com' },
  rateLimitExceeded: { reason: 'RATE_LIMIT_EXCEEDED', domain: 'googleapis.com' },
};

type Status = 'PROVISIONING' | 'STAGING' | 'RUNNING' | 'STOPPING' | 'TERMINATED';

export interface ReplicaGceInstance {
  id: string;
  name: string;
  zone: string;
  region: string;
  machineType: string;
  status: Status;
  labels: Record<string, string>;
  metadata: { key: string; value: string }[];
  metadataFingerprint: string;
  scheduling: Record<string, unknown>;
  disks: Record<string, unknown>[];
  creationTimestamp: string;
  lastStopTimestamp?: string;
  backingId: string;
  natIP: string;
  networkIP: string;
  spot: boolean;
  /** The request as received (body), for tests. */
  request: Record<string, unknown>;
}

interface Operation {
  kind: 'compute#operation';
  id: string;
  name: string;
  zone: string;
  operationType: string;
  targetLink: string;
  targetId: string;
  status: 'PENDING' | 'RUNNING' | 'DONE';
  user: string;
  progress: number;
  insertTime: string;
  startTime?: string;
  endTime?: string;
  selfLink: string;
  statusMessage?: string;
  httpErrorStatusCode?: number;
  httpErrorMessage?: string;
  error?: { errors: { code: string; message: string; errorDetails?: unknown[] }[] };
  requestId?: string;
  /** Resolves when the operation is DONE (not serialized). */
  done?: Promise<void>;
}

/** Capacity switched off for matching inserts (persistent until cleared). */
export interface CapacityOff {
  machineType?: string;
  zone?: string;
  spot?: boolean;
}

/** A one-shot HTTP error for matching requests (`method` as Compute names it, e.g. "instances.insert"). */
export interface GceFault {
  status: number;
  reason: string;
  message?: string;
  method?: string;
  count: number;
}

export interface GcpReplicaOptions {
  localCloud: { url: string; token: string };
  project: string;
  /** The service account whose self-signed JWTs are accepted: its e-mail, key ID and public key (PEM or KeyObject). */
  serviceAccount: { email: string; keyId: string; publicKey: string | KeyObject };
  backing?: { type: string; location: string };
  regions?: readonly ReplicaGcpRegion[];
  machineTypes?: readonly ReplicaMachineType[];
  /** Compute's per-project API rate limit as a token bucket (20/s, burst 100); false turns it off. */
  throttling?: boolean;
  /** How long a preempted VM stays STOPPING before Compute stops or deletes it (GCP: up to 30 s). */
  preemptionGraceMs?: number;
  host?: string;
  port?: number;
}

export interface GcpReplicaAdmin {
  failNext(f: Partial<GceFault> & { status: number; reason: string }): void;
  /**
   * The next `count` 200 answers to `method` (e.g. "instances.insert") are spoiled (an HTML page,
   * truncated JSON, or every value of the wrong type), after the call was carried out.
   */
  malformNext(f: Pick<MalformFault, 'count' | 'kind'> & { method: string }): void;
  /** No capacity for matching inserts: the insert operation ends with ZONE_RESOURCE_POOL_EXHAUSTED. */
  setCapacityOff(c: CapacityOff): void;
  clearCapacity(): void;
  /** GPU quotas: per region and metric (e.g. NVIDIA_L4_GPUS, PREEMPTIBLE_NVIDIA_L4_GPUS) and the project-wide GPUS_ALL_REGIONS. */
  setQuota(q: { metric: string; region?: string; limit: number }): void;
  clearQuotas(): void;
  /** Methods the service account may not call (403 forbidden, "Required 'compute.…' permission"). */
  deny(methods: string[]): void;
  /**
   * Compute preempts a Spot VM: a `compute.instances.preempted` operation (DONE), the VM STOPPING,
   * and `preemptionGraceMs` later stopped (TERMINATED) or deleted, as its `instanceTerminationAction` says.
   */
  preempt(zone: string, name: string): Promise<void>;
  instances(): ReplicaGceInstance[];
  instance(zone: string, name: string): ReplicaGceInstance | undefined;
  /** Deleted instances too (Compute forgets them; tests do not). */
  everInstances(): ReplicaGceInstance[];
  operations(): Operation[];
  backingId(zone: string, name: string): string | undefined;
}

export interface GcpReplicaHandle {
  url: string;
  admin: GcpReplicaAdmin;
  requests: (RequestRecord & { method2?: string })[];
  close(): Promise<void>;
}

const hex = (n: number) => randomBytes(Math.ceil(n / 2)).toString('hex').slice(0, n);
const numericId = () => `${1 + Math.floor(Math.random() * 8)}${Array.from({ length: 18 }, () => Math.floor(Math.random() * 10)).join('')}`;
const NAME_RE = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const LABEL_KEY_RE = /^[a-z][a-z0-9_-]{0,62}$/;
const LABEL_VALUE_RE = /^[a-z0-9_-]{0,63}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Compute list filters: `(field = "v") (field != v)`, `field eq v`; AND only (what the adapter and tests use). */
function parseFilter(filter: string): { field: string; op: '=' | '!='; value: string }[] {
  const out: { field: string; op: '=' | '!='; value: string }[] = [];
  const re = /\(?\s*([a-zA-Z][\w.-]*)\s*(=|!=|eq|ne)\s*"?([^")]*)"?\s*\)?/g;
  for (const m of filter.matchAll(re)) {
    if (m[1] === 'AND') continue;
    out.push({ field: m[1]!, op: m[2] === '!=' || m[2] === 'ne' ? '!=' : '=', value: m[3]!.trim() });
  }
  if (filter.trim() && out.length === 0) throw new GceError(400, 'invalid', `Invalid value for field 'filter': '${filter}'. Invalid list filter expression.`);
  return out;
}
function fieldOf(obj: Record<string, unknown>, path: string): string | undefined {
  let cur: unknown = obj;
  for (const p of path.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[p] : undefined;
  return cur === undefined || cur === null ? undefined : String(cur);
}
function applyFilter<T extends Record<string, unknown>>(items: T[], filter: string | null): T[] {
  if (!filter) return items;
  const terms = parseFilter(filter);
  return items.filter((it) => terms.every((t) => (t.op === '=' ? fieldOf(it, t.field) === t.value : fieldOf(it, t.field) !== t.value)));
}

/** GPU quota metric names (Compute "GPU quotas": NVIDIA_<MODEL>_GPUS, PREEMPTIBLE_… for Spot). */
function gpuMetric(acceleratorType: string, spot: boolean): string {
  const model = acceleratorType.replace(/^nvidia-(tesla-)?/, '').replace(/-/g, '_').toUpperCase();
  return `${spot ? 'PREEMPTIBLE_' : ''}NVIDIA_${model}_GPUS`;
}

export async function startGcpReplica(opts: GcpReplicaOptions): Promise<GcpReplicaHandle> {
  const regions = opts.regions ?? GCP_REPLICA_REGIONS;
  const types = opts.machineTypes ?? GCP_REPLICA_MACHINE_TYPES;
  const graceMs = opts.preemptionGraceMs ?? 2_000;
  const project = opts.project;
  const publicKey = typeof opts.serviceAccount.publicKey === 'string' ? createPublicKey(opts.serviceAccount.publicKey) : opts.serviceAccount.publicKey;
  const backing = new BackingCloud(opts.localCloud, opts.backing, 'gcp');
  const requests: GcpReplicaHandle['requests'] = [];
  const faults: GceFault[] = [];
  const capacityOff: CapacityOff[] = [];
  const quotas: { metric: string; region?: string; limit: number }[] = [];
  const denied = new Set<string>();
  const instances = new Map<string, ReplicaGceInstance>();
  const ever: ReplicaGceInstance[] = [];
  const operations: Operation[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const bucket = new TokenBucket(20, 100);
  let base = '';

  const zoneOf = (z: string) => {
    const r = regions.find((x) => x.zones.includes(z));
    if (!r) throw new GceError(400, 'invalid', `Invalid value for field 'zone': '${z}'. Unknown zone.`);
    return r;
  };
  const selfBase = () => `${base}/compute/v1/projects/${project}`;
  const key = (zone: string, name: string) => `${zone}/${name}`;
  const resourcePath = (zone: string, name: string) => `projects/${project}/zones/${zone}/instances/${name}`;

  // ---- auth: a service account's self-signed JWT ---------------------------------------------------
  function authenticate(req: http.IncomingMessage): void {
    const unauth = () =>
      new GceError(401, 'authError', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.');
    const m = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(String(req.headers.authorization ?? ''));
    if (!m) throw unauth();
    let header: { alg?: string; kid?: string };
    let claims: { iss?: string; sub?: string; aud?: string; exp?: number; iat?: number };
    try {
      header = JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')) as typeof header;
      claims = JSON.parse(Buffer.from(m[2]!, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      throw unauth();
    }
    if (header.alg !== 'RS256' || header.kid !== opts.serviceAccount.keyId) throw unauth();
    const ok = createVerify('RSA-SHA256').update(`${m[1]}.${m[2]}`).verify(publicKey, Buffer.from(m[3]!, 'base64url'));
    if (!ok) throw unauth();
    const now = Math.floor(Date.now() / 1000);
    if (claims.iss !== opts.serviceAccount.email || (claims.sub ?? claims.iss) !== claims.iss) throw unauth();
    if (claims.aud !== AUDIENCE && claims.aud !== `${AUDIENCE.replace(/\/$/, '')}`) throw unauth();
    if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number' || claims.exp < now - CLOCK_SKEW_S || claims.iat > now + CLOCK_SKEW_S || claims.exp - claims.iat > MAX_TOKEN_LIFETIME_S) throw unauth();
  }

  // ---- instances -----------------------------------------------------------------------------------
  async function refresh(i: ReplicaGceInstance): Promise<void> {
    if (i.status === 'TERMINATED') return;
    const b: BackingInstance | undefined = await backing.get(i.backingId);
    const bs = b?.status.lifecycleStatus;
    if (b) {
      i.natIP = b.publicIp || i.natIP;
      if (b.sshPort) i.labels['gpuflow-replica-ssh-port'] = String(b.sshPort);
      if (b.sshUser && LABEL_VALUE_RE.test(b.sshUser)) i.labels['gpuflow-replica-ssh-user'] = b.sshUser;
      i.labels['gpuflow-replica-not-privileged'] = 'true';
    }
    if ((i.status === 'PROVISIONING' || i.status === 'STAGING') && bs === 'running') i.status = 'RUNNING';
    else if (i.status === 'PROVISIONING' && bs) i.status = 'STAGING';
    else if (i.status === 'RUNNING' && (!b || bs === 'terminated' || bs === 'failed')) {
      // The machine died under the VM: Compute records a host error and the VM stops.
      record(i.zone, 'compute.instances.hostError', i, 'system', { statusMessage: 'Instance terminated by Compute Engine: host error.' });
      stop(i);
    }
  }

  function stop(i: ReplicaGceInstance): void {
    i.status = 'TERMINATED';
    i.lastStopTimestamp = new Date().toISOString();
    i.natIP = '';
    delete i.labels['gpuflow-replica-ssh-port'];
  }

  function instanceJson(i: ReplicaGceInstance): Record<string, unknown> {
    const t = types.find((x) => x.name === i.machineType);
    return {
      kind: 'compute#instance',
      id: i.id,
      creationTimestamp: i.creationTimestamp,
      name: i.name,
      machineType: `${selfBase()}/zones/${i.zone}/machineTypes/${i.machineType}`,
      status: i.status,
      zone: `${selfBase()}/zones/${i.zone}`,
      networkInterfaces: [
        {
          kind: 'compute#networkInterface',
          network: `${selfBase()}/global/networks/default`,
          networkIP: i.networkIP,
          name: 'nic0',
          accessConfigs: [{ kind: 'compute#accessConfig', type: 'ONE_TO_ONE_NAT', name: 'External NAT', ...(i.natIP ? { natIP: i.natIP } : {}), networkTier: 'PREMIUM' }],
          stackType: 'IPV4_ONLY',
        },
      ],
      disks: i.disks,
      metadata: { kind: 'compute#metadata', fingerprint: i.metadataFingerprint, items: i.metadata },
      serviceAccounts: [],
      selfLink: `${selfBase()}/zones/${i.zone}/instances/${i.name}`,
      scheduling: i.scheduling,
      cpuPlatform: 'Intel Sapphire Rapids',
      labels: i.labels,
      labelFingerprint: hex(16),
      startRestricted: false,
      deletionProtection: false,
      ...(t?.accelerator ? { guestAccelerators: [{ acceleratorType: `${selfBase()}/zones/${i.zone}/acceleratorTypes/${t.accelerator.type}`, acceleratorCount: t.accelerator.count }] } : {}),
      ...(i.lastStopTimestamp ? { lastStopTimestamp: i.lastStopTimestamp } : {}),
      fingerprint: hex(16),
    };
  }

  function findInstance(zone: string, name: string): ReplicaGceInstance {
    zoneOf(zone);
    const i = instances.get(key(zone, name));
    if (!i) throw new GceError(404, 'notFound', `The resource '${resourcePath(zone, name)}' was not found`);
    return i;
  }

  // ---- operations ----------------------------------------------------------------------------------
  function record(zone: string, type: string, target: { id: string; name: string }, user: string, extra: Partial<Operation> = {}): Operation {
    const now = new Date().toISOString();
    const name = `operation-${Date.now()}-${hex(13)}-${hex(8)}-${hex(8)}`;
    const op: Operation = {
      kind: 'compute#operation',
      id: numericId(),
      name,
      zone: `${selfBase()}/zones/${zone}`,
      operationType: type,
      targetLink: `${selfBase()}/zones/${zone}/instances/${target.name}`,
      targetId: target.id,
      status: 'DONE',
      user,
      progress: 100,
      insertTime: now,
      startTime: now,
      endTime: now,
      selfLink: `${selfBase()}/zones/${zone}/operations/${name}`,
      ...extra,
    };
    operations.push(op);
    return op;
  }

  /** An operation that runs `work` and is DONE when it settles; a thrown {error} lands in `Operation.error`. */
  function run(zone: string, type: string, target: { id: string; name: string }, requestId: string | undefined, work: () => Promise<void>): Operation {
    const op = record(zone, type, target, opts.serviceAccount.email, { status: 'PENDING', progress: 0, ...(requestId ? { requestId } : {}) });
    delete op.endTime;
    op.done = (async () => {
      await new Promise((r) => setTimeout(r, 20));
      op.status = 'RUNNING';
      try {
        await work();
      } catch (e) {
        const f = e as { opError?: Operation['error']; httpStatus?: number; httpMessage?: string };
        op.error = f.opError ?? { errors: [{ code: 'INTERNAL_ERROR', message: (e as Error).message }] };
        op.httpErrorStatusCode = f.httpStatus ?? 500;
        op.httpErrorMessage = f.httpMessage ?? 'INTERNAL SERVER ERROR';
      }
      op.status = 'DONE';
      op.progress = 100;
      op.endTime = new Date().toISOString();
    })();
    return op;
  }

  function opJson(op: Operation): Record<string, unknown> {
    const { done: _d, requestId: _r, ...rest } = op;
    return rest;
  }

  function opFailure(code: string, message: string, httpStatus: number, httpMessage: string, errorDetails?: unknown[]): Error {
    return Object.assign(new Error(message), { opError: { errors: [{ code, message, ...(errorDetails ? { errorDetails } : {}) }] }, httpStatus, httpMessage });
  }

  // ---- handlers ------------------------------------------------------------------------------------
  type Ctx = { url: URL; body: unknown; m: RegExpExecArray };
  type H = (c: Ctx) => Promise<unknown>;
  const zoneRe = '([a-z]+-[a-z]+\\d+-[a-z])';
  const nameRe = '([a-z0-9-]+)';
  const routes: { method: string; re: RegExp; name: string; h: H }[] = [];
  const add = (method: string, path: string, name: string, h: H) => routes.push({ method, re: new RegExp(`^/compute/v1/projects/([^/]+)${path}$`), name, h });

  add('GET', '/regions', 'regions.list', async () => ({
    kind: 'compute#regionList',
    id: `projects/${project}/regions`,
    items: regions.map((r) => ({ kind: 'compute#region', id: numericId(), name: r.name, description: r.name, status: 'UP', zones: r.zones.map((z) => `${selfBase()}/zones/${z}`), selfLink: `${selfBase()}/regions/${r.name}` })),
    selfLink: `${selfBase()}/regions`,
  }));
  add('GET', '/zones', 'zones.list', async ({ url }) => ({
    kind: 'compute#zoneList',
    id: `projects/${project}/zones`,
    items: applyFilter(
      regions.flatMap((r) => r.zones.map((z) => ({ kind: 'compute#zone', id: numericId(), name: z, description: z, status: 'UP', region: `${selfBase()}/regions/${r.name}`, selfLink: `${selfBase()}/zones/${z}`, availableCpuPlatforms: ['Intel Sapphire Rapids'] }))),
      url.searchParams.get('filter'),
    ),
    selfLink: `${selfBase()}/zones`,
  }));
  const machineTypeJson = (zone: string, t: ReplicaMachineType) => ({
    kind: 'compute#machineType',
    id: numericId(),
    name: t.name,
    description: `${t.guestCpus} vCPUs, ${Math.round(t.memoryMb / 1024)} GB RAM${t.accelerator ? `, ${t.accelerator.count} GPU` : ''}`,
    guestCpus: t.guestCpus,
    memoryMb: t.memoryMb,
    maximumPersistentDisks: 128,
    maximumPersistentDisksSizeGb: '263168',
    zone,
    selfLink: `${selfBase()}/zones/${zone}/machineTypes/${t.name}`,
    isSharedCpu: false,
    ...(t.accelerator ? { accelerators: [{ guestAcceleratorType: t.accelerator.type, guestAcceleratorCount: t.accelerator.count }] } : {}),
  });
  add('GET', `/zones/${zoneRe}/machineTypes`, 'machineTypes.list', async ({ m, url }) => {
    const zone = m[2]!;
    const r = zoneOf(zone);
    const offered = types.filter((t) => !(t.name.startsWith('a3') && r.name !== 'us-central1'));
    return { kind: 'compute#machineTypeList', id: `projects/${project}/zones/${zone}/machineTypes`, items: applyFilter(offered.map((t) => machineTypeJson(zone, t)), url.searchParams.get('filter')), selfLink: `${selfBase()}/zones/${zone}/machineTypes` };
  });
  add('GET', `/zones/${zoneRe}/machineTypes/${nameRe}`, 'machineTypes.get', async ({ m }) => {
    zoneOf(m[2]!);
    const t = types.find((x) => x.name === m[3]);
    if (!t) throw new GceError(404, 'notFound', `The resource 'projects/${project}/zones/${m[2]}/machineTypes/${m[3]}' was not found`);
    return machineTypeJson(m[2]!, t);
  });
  add('GET', `/zones/${zoneRe}/acceleratorTypes`, 'acceleratorTypes.list', async ({ m }) => {
    zoneOf(m[2]!);
    const accs = [...new Map(types.filter((t) => t.accelerator).map((t) => [t.accelerator!.type, t.accelerator!])).values()];
    return { kind: 'compute#acceleratorTypeList', items: accs.map((a) => ({ kind: 'compute#acceleratorType', id: numericId(), name: a.type, description: a.catalogName, zone: `${selfBase()}/zones/${m[2]}`, maximumCardsPerInstance: 8 })) };
  });

  add('POST', `/zones/${zoneRe}/instances`, 'instances.insert', async ({ m, url, body }) => {
    const zone = m[2]!;
    const region = zoneOf(zone);
    const requestId = url.searchParams.get('requestId') ?? undefined;
    if (requestId !== undefined && !UUID_RE.test(requestId)) throw new GceError(400, 'invalid', `Invalid value for field 'requestId': '${requestId}'. The requestId must be a valid UUID.`);
    // A repeated request ID: Compute answers with the first request's operation.
    const prior = requestId ? operations.find((o) => o.requestId === requestId && o.operationType === 'insert') : undefined;
    if (prior) return opJson(prior);
    const b = (body ?? {}) as Record<string, unknown>;
    const name = String(b.name ?? '');
    if (!NAME_RE.test(name)) throw new GceError(400, 'invalid', `Invalid value for field 'resource.name': '${name}'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'`);
    if (instances.has(key(zone, name))) throw new GceError(409, 'alreadyExists', `The resource '${resourcePath(zone, name)}' already exists`);
    const mtName = String(b.machineType ?? '').split('/').pop() ?? '';
    const t = types.find((x) => x.name === mtName);
    if (!t || (t.name.startsWith('a3') && region.name !== 'us-central1')) throw new GceError(400, 'invalid', `Invalid value for field 'resource.machineType': '${String(b.machineType)}'. Machine type with name '${mtName}' does not exist in zone '${zone}'.`);
    const labels = (b.labels ?? {}) as Record<string, string>;
    for (const [k, v] of Object.entries(labels)) {
      if (!LABEL_KEY_RE.test(k) || !LABEL_VALUE_RE.test(String(v))) throw new GceError(400, 'invalid', `Invalid value for field 'resource.labels': '${k}'. Label keys and values must be lowercase letters, digits, '_' and '-', at most 63 characters.`);
    }
    const items = (((b.metadata ?? {}) as { items?: { key: string; value: string }[] }).items ?? []).map((x) => ({ key: String(x.key), value: String(x.value ?? '') }));
    const disks = (b.disks ?? []) as { boot?: boolean; autoDelete?: boolean; initializeParams?: { sourceImage?: string; diskSizeGb?: string } }[];
    const boot = disks.find((d) => d.boot);
    if (!boot?.initializeParams?.sourceImage) throw new GceError(400, 'required', "Invalid value for field 'resource.disks[0].initializeParams.sourceImage': ''. Source image must be specified.");
    const sched = (b.scheduling ?? {}) as Record<string, unknown>;
    const spot = sched.provisioningModel === 'SPOT';
    if (spot && sched.instanceTerminationAction !== 'STOP' && sched.instanceTerminationAction !== 'DELETE') throw new GceError(400, 'invalid', "Invalid value for field 'resource.scheduling.instanceTerminationAction': ''. Spot VMs must specify STOP or DELETE.");
    if (t.accelerator && sched.onHostMaintenance !== 'TERMINATE') throw new GceError(400, 'invalid', "Invalid value for field 'resource.scheduling.onHostMaintenance': 'MIGRATE'. Instances with guest accelerators do not support live migration.");
    if (spot && sched.automaticRestart === true) throw new GceError(400, 'invalid', "Invalid value for field 'resource.scheduling.automaticRestart': 'true'. Spot VMs cannot be automatically restarted.");
    const id = numericId();
    const inst: ReplicaGceInstance = {
      id,
      name,
      zone,
      region: region.name,
      machineType: t.name,
      status: 'PROVISIONING',
      labels: { ...labels },
      metadata: items,
      metadataFingerprint: hex(12),
      scheduling: { ...sched, provisioningModel: spot ? 'SPOT' : 'STANDARD', preemptible: false },
      disks: [{ kind: 'compute#attachedDisk', type: 'PERSISTENT', mode: 'READ_WRITE', source: `${selfBase()}/zones/${zone}/disks/${name}`, deviceName: 'persistent-disk-0', index: 0, boot: true, autoDelete: boot.autoDelete ?? true, diskSizeGb: boot.initializeParams.diskSizeGb ?? '50', interface: 'SCSI' }],
      creationTimestamp: new Date().toISOString(),
      backingId: '',
      natIP: '',
      networkIP: `10.128.${Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}`,
      spot,
      request: b,
    };
    return opJson(
      run(zone, 'insert', { id, name }, requestId, async () => {
        const off = capacityOff.some((c) => (!c.machineType || c.machineType === t.name) && (!c.zone || c.zone === zone) && (c.spot === undefined || c.spot === spot));
        if (off) throw opFailure('ZONE_RESOURCE_POOL_EXHAUSTED', `The zone 'projects/${project}/zones/${zone}' does not have enough resources available to fulfill the request.  Try a different zone, or try again later.`, 503, 'SERVICE UNAVAILABLE');
        if (t.accelerator) {
          const live = [...instances.values()].filter((x) => x.status !== 'TERMINATED');
          const count = (pred: (x: ReplicaGceInstance) => boolean) => live.filter(pred).reduce((s, x) => s + (types.find((y) => y.name === x.machineType)?.accelerator?.count ?? 0), 0);
          const metric = gpuMetric(t.accelerator.type, spot);
          for (const q of quotas) {
            if (q.metric === 'GPUS_ALL_REGIONS' && count(() => true) + t.accelerator.count > q.limit) {
              throw opFailure('QUOTA_EXCEEDED', `Quota 'GPUS_ALL_REGIONS' exceeded.  Limit: ${q.limit.toFixed(1)} globally.`, 403, 'FORBIDDEN', [{ quotaInfo: { metricName: 'compute.googleapis.com/gpus_all_regions', limitName: 'GPUS-ALL-REGIONS-per-project', limit: q.limit } }]);
            }
            if (q.metric === metric && (!q.region || q.region === region.name)) {
              const used = count((x) => x.region === region.name && gpuMetric(types.find((y) => y.name === x.machineType)?.accelerator?.type ?? '', x.spot) === metric);
              if (used + t.accelerator.count > q.limit) {
                throw opFailure('QUOTA_EXCEEDED', `Quota '${metric}' exceeded.  Limit: ${q.limit.toFixed(1)} in region ${region.name}.`, 403, 'FORBIDDEN', [{ quotaInfo: { metricName: `compute.googleapis.com/${metric.toLowerCase()}`, limitName: `${metric.replace(/_/g, '-')}-per-project-region`, dimensions: { region: region.name }, limit: q.limit } }]);
              }
            }
          }
        }
        // The machine: a local cloud sshd that accepts the ssh-keys metadata's first key.
        const sshKeys = items.find((x) => x.key === 'ssh-keys')?.value ?? '';
        const first = /^[^:\s]+:(\S+ \S+)/.exec(sshKeys.split('\n')[0] ?? '');
        const publicKeyLine = first?.[1] ?? `ssh-ed25519 ${randomBytes(32).toString('base64')}`;
        instances.set(key(zone, name), inst);
        ever.push(inst);
        const bi = await backing.create(`${zone}-${name}`, name, publicKeyLine);
        inst.backingId = bi.cloudId;
      }),
    );
  });

  const listInstances = (zone: string | undefined, filter: string | null) => applyFilter([...instances.values()].filter((i) => !zone || i.zone === zone).map(instanceJson), filter);
  add('GET', `/zones/${zoneRe}/instances`, 'instances.list', async ({ m, url }) => {
    const zone = m[2]!;
    zoneOf(zone);
    await Promise.all([...instances.values()].filter((i) => i.zone === zone).map(refresh));
    return { kind: 'compute#instanceList', id: `projects/${project}/zones/${zone}/instances`, items: listInstances(zone, url.searchParams.get('filter')), selfLink: `${selfBase()}/zones/${zone}/instances` };
  });
  add('GET', '/aggregated/instances', 'instances.aggregatedList', async ({ url }) => {
    await Promise.all([...instances.values()].map(refresh));
    const items: Record<string, unknown> = {};
    for (const r of regions) {
      for (const z of r.zones) {
        const list = listInstances(z, url.searchParams.get('filter'));
        items[`zones/${z}`] = list.length ? { instances: list } : { warning: { code: 'NO_RESULTS_ON_PAGE', message: 'There are no results for scope \'zones/' + z + '\' on this page.', data: [{ key: 'scope', value: `zones/${z}` }] } };
      }
    }
    return { kind: 'compute#instanceAggregatedList', id: `projects/${project}/aggregated/instances`, items, selfLink: `${selfBase()}/aggregated/instances` };
  });
  add('GET', `/zones/${zoneRe}/instances/${nameRe}`, 'instances.get', async ({ m }) => {
    const i = findInstance(m[2]!, m[3]!);
    await refresh(i);
    return instanceJson(i);
  });
  add('DELETE', `/zones/${zoneRe}/instances/${nameRe}`, 'instances.delete', async ({ m, url }) => {
    const i = findInstance(m[2]!, m[3]!);
    const requestId = url.searchParams.get('requestId') ?? undefined;
    const prior = requestId ? operations.find((o) => o.requestId === requestId && o.operationType === 'delete') : undefined;
    if (prior) return opJson(prior);
    i.status = 'STOPPING';
    return opJson(
      run(i.zone, 'delete', i, requestId, async () => {
        await backing.terminate(i.backingId).catch(() => undefined);
        instances.delete(key(i.zone, i.name));
        stop(i);
      }),
    );
  });
  add('POST', `/zones/${zoneRe}/instances/${nameRe}/reset`, 'instances.reset', async ({ m, url }) => {
    const i = findInstance(m[2]!, m[3]!);
    if (i.status !== 'RUNNING') throw new GceError(400, 'resourceNotReady', `The resource '${resourcePath(i.zone, i.name)}' is not ready`);
    return opJson(run(i.zone, 'reset', i, url.searchParams.get('requestId') ?? undefined, () => backing.reboot(i.backingId)));
  });
  add('POST', `/zones/${zoneRe}/instances/${nameRe}/setMetadata`, 'instances.setMetadata', async ({ m, body }) => {
    const i = findInstance(m[2]!, m[3]!);
    const b = (body ?? {}) as { fingerprint?: string; items?: { key: string; value: string }[] };
    if (b.fingerprint !== i.metadataFingerprint) throw new GceError(412, 'conditionNotMet', 'Supplied fingerprint does not match current metadata fingerprint.');
    i.metadata = (b.items ?? []).map((x) => ({ key: String(x.key), value: String(x.value ?? '') }));
    i.metadataFingerprint = hex(12);
    return opJson(record(i.zone, 'setMetadata', i, opts.serviceAccount.email));
  });

  const findOp = (zone: string, name: string) => {
    const op = operations.find((o) => o.name === name && o.zone.endsWith(`/zones/${zone}`));
    if (!op) throw new GceError(404, 'notFound', `The resource 'projects/${project}/zones/${zone}/operations/${name}' was not found`);
    return op;
  };
  add('GET', `/zones/${zoneRe}/operations`, 'zoneOperations.list', async ({ m, url }) => ({
    kind: 'compute#operationList',
    id: `projects/${project}/zones/${m[2]}/operations`,
    items: applyFilter(operations.filter((o) => o.zone.endsWith(`/zones/${m[2]}`)).map(opJson), url.searchParams.get('filter')),
    selfLink: `${selfBase()}/zones/${m[2]}/operations`,
  }));
  add('GET', `/zones/${zoneRe}/operations/${nameRe}`, 'zoneOperations.get', async ({ m }) => opJson(findOp(m[2]!, m[3]!)));
  // wait: answers when the operation is DONE, or after 2 minutes with it as it is (Compute's documented bound).
  add('POST', `/zones/${zoneRe}/operations/${nameRe}/wait`, 'zoneOperations.wait', async ({ m }) => {
    const op = findOp(m[2]!, m[3]!);
    if (op.done) await Promise.race([op.done, new Promise((r) => setTimeout(r, 120_000).unref())]);
    return opJson(op);
  });

  const { server, base: b, malformNext } = await serveReplica(
    async (req, res, rec) => {
      const r = rec as RequestRecord & { method2?: string };
      const url = new URL(req.url ?? '/', 'http://replica');
      const hit = routes.map((x) => ({ x, m: x.method === req.method ? x.re.exec(url.pathname) : null })).find((y) => y.m);
      r.auth = req.headers.authorization?.startsWith('Bearer ') ? 'bearer' : 'none';
      if (!hit) throw new GceError(404, 'notFound', `The requested URL ${url.pathname} was not found on this server.`);
      r.method2 = hit.x.name;
      authenticate(req);
      if (hit.m![1] !== project) throw new GceError(403, 'forbidden', `Required 'compute.${hit.x.name.split('.')[0]}.${hit.x.name.split('.')[1]}' permission for 'projects/${hit.m![1]}'`);
      if (denied.has(hit.x.name)) {
        const [res1, verb] = hit.x.name.split('.');
        throw new GceError(403, 'forbidden', `Required 'compute.${res1}.${verb === 'insert' ? 'create' : verb}' permission for 'projects/${project}'`);
      }
      const fi = faults.findIndex((f) => f.count > 0 && (!f.method || f.method === hit.x.name));
      if (fi >= 0) {
        const f = faults[fi]!;
        if (--f.count <= 0) faults.splice(fi, 1);
        throw new GceError(f.status, f.reason, f.message ?? `${f.reason} (injected)`, f.status === 429 ? 'usageLimits' : 'global');
      }
      if (opts.throttling !== false && !bucket.take().ok) {
        throw new GceError(429, 'rateLimitExceeded', `Quota exceeded for quota metric 'Queries' and limit 'Queries per minute' of service 'compute.googleapis.com' for consumer 'project_number:${project}'.`, 'usageLimits');
      }
      const { json, invalidJson } = req.method === 'POST' ? await readBody(req) : { json: undefined, invalidJson: false };
      if (invalidJson) throw new GceError(400, 'parseError', 'Parse Error');
      const out = await hit.x.h({ url, body: json, m: hit.m! });
      r.status = 200;
      send(res, 200, out);
    },
    { requests, internalError: () => new GceError(500, 'backendError', 'Internal error. Please try again or contact Google Support.'), host: opts.host, port: opts.port },
  );
  base = b;

  const admin: GcpReplicaAdmin = {
    failNext: (f) => faults.push({ count: 1, ...f }),
    malformNext: (f) => {
      const r = routes.find((x) => x.name === f.method);
      if (!r) throw new Error(`no method ${f.method} in the replica`);
      malformNext({ count: f.count, kind: f.kind, methods: [r.method], pathPattern: r.re });
    },
    setCapacityOff: (c) => capacityOff.push(c),
    clearCapacity: () => capacityOff.splice(0),
    setQuota: (q) => quotas.push(q),
    clearQuotas: () => quotas.splice(0),
    deny: (ms) => {
      denied.clear();
      ms.forEach((x) => denied.add(x));
    },
    async preempt(zone, name) {
      const i = instances.get(key(zone, name));
      if (!i?.spot) throw new Error(`${zone}/${name} is not a Spot VM`);
      record(zone, 'compute.instances.preempted', i, 'system', { statusMessage: 'Instance was preempted.' });
      i.status = 'STOPPING';
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          timers.delete(t);
          void backing
            .terminate(i.backingId)
            .catch(() => undefined)
            .then(() => {
              stop(i);
              if (i.scheduling.instanceTerminationAction === 'DELETE') {
                instances.delete(key(zone, name));
                record(zone, 'delete', i, 'system');
              }
              resolve();
            });
        }, graceMs);
        timers.add(t);
      });
    },
    instances: () => [...instances.values()],
    instance: (zone, name) => instances.get(key(zone, name)) ?? ever.find((x) => x.zone === zone && x.name === name),
    everInstances: () => [...ever],
    operations: () => [...operations],
    backingId: (zone, name) => (instances.get(key(zone, name)) ?? ever.find((x) => x.zone === zone && x.name === name))?.backingId,
  };

  return {
    url: base,
    admin,
    requests,
    async close() {
      for (const t of timers) clearTimeout(t);
      await Promise.all([...instances.values()].filter((i) => i.status !== 'TERMINATED' && i.backingId).map((i) => backing.terminate(i.backingId).catch(() => undefined)));
      await closeServer(server);
    },
  };
}
