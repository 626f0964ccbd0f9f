/**
 * A stateful replica of RunPod's GraphQL API (`POST /graphql`, notes/provider-apis.md §2a) on
 * 127.0.0.1, for tests. It is a real GraphQL server (graphql-js over ./schema.ts): queries are
 * parsed and validated, aliases, variables and selection sets work, and errors come back the way
 * RunPod sends them — **HTTP 200** with `errors[{message, path, extensions:{code:"RUNPOD"}}]` and
 * the field null — while unparsable or invalid documents get HTTP 400 with Apollo's codes.
 *
 * State: pods (RUNNING with `runtime: null` until the container is up, EXITED when an
 * interruptible pod is outbid or interrupted, TERMINATED and gone from reads after `podTerminate`),
 * GPUs in use per data center (stock status follows), the spot market's minimum bids. Each pod is a
 * real local cloud instance (an sshd) started with the key from the pod's `PUBLIC_KEY` env var,
 * published as `runtime.ports[{privatePort: 22, publicPort, ip, isIpPublic}]`.
 *
 * Auth: `Authorization: Bearer <key>` or `?api_key=<key>`; anything else is HTTP 401 (body not
 * documented; the replica sends `{"errors":[{"message":"Unauthorized"}]}`). RunPod documents no
 * GraphQL rate limits, so none are enforced: 429s come from `admin.rateLimitNext`.
 *
 * Wording that is ours, not recorded from RunPod: the low-bid, balance, validation and
 * not-found messages (RunPod's "pod not found to terminate" is recorded, via dstack).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { buildSchema, execute, GraphQLError, parse, validate, type DocumentNode } from 'graphql';
import type { Instance } from '../../../src/providers/sdk/types.js';
import { generateSshKeyPair } from '../../../src/ssh/sshClient.js';
import { BackingCloud, closeServer, listen, readBody, send, spoilResponse, takeCounted, takeMalform, type CountedFault, type MalformFault, type RequestRecord } from '../shared.js';
import { DEFAULT_RUNPOD_REPLICA_CATALOG, type RunPodReplicaCatalog, type RunPodReplicaDataCenter, type RunPodReplicaGpuType } from './catalog.js';
import { RUNPOD_REPLICA_SDL } from './schema.js';

const PATH = '/graphql';
export const RUNPOD_CAPACITY_MESSAGE = 'There are no longer any instances available with the requested specifications. Please refresh and try again.';
const INTERNAL_MESSAGE = 'Something went wrong. Please try again later or contact support.';

export interface RunPodReplicaOptions {
  localCloud: { url: string; token: string };
  apiKey: string;
  backing?: { type: string; location: string };
  catalog?: RunPodReplicaCatalog;
  /** At most this many pods not terminated (default 50). */
  quota?: { maxPods?: number };
  host?: string;
  port?: number;
}

export interface RunPodCapacityFault {
  gpuTypeId?: string;
  dataCenterId?: string;
  /** Also report no stock in the catalog (default: the catalog stays stale, as real ones are). */
  hideFromCatalog?: boolean;
}

export interface RunPodReplicaAdmin {
  setOutOfCapacity(faults: RunPodCapacityFault[]): void;
  /** Deploys fail with a balance error (RunPod's wording is not recorded; ours). */
  setInsufficientBalance(on: boolean): void;
  /** The next matching requests get HTTP 429 (Retry-After in seconds unless `retryAfterHeader: false`). */
  rateLimitNext(f: CountedFault & { retryAfterSeconds?: number; retryAfterHeader?: boolean }): void;
  /** The next matching requests get an HTTP 5xx. */
  failNext(f: CountedFault & { status?: 500 | 502 | 503; retryAfterSeconds?: number }): void;
  /**
   * The next `count` HTTP 200 answers to `operation` (an `operationName`, e.g. "GpuflowPods") are
   * spoiled after the operation ran: an HTML page, truncated JSON, or every value of the wrong type.
   */
  malformNext(f: Pick<MalformFault, 'count' | 'kind'> & { operation: string }): void;
  /** The next `count` operations answer HTTP 200 with RunPod's INTERNAL_SERVER_ERROR ("Something went wrong..."). */
  internalErrorNext(count: number): void;
  /** Moves a GPU type's minimum bid; running interruptible pods bidding less are interrupted (EXITED). */
  setMinimumBid(gpuTypeId: string, price: number): Promise<void>;
  /** Interrupts one interruptible pod now, as RunPod does when it reclaims the host. */
  interrupt(podId: string): Promise<void>;
  clearFaults(): void;
  /** Every pod, terminated ones included, as `pod` shows a live one. */
  pods(): Promise<Record<string, unknown>[]>;
  backingId(podId: string): string | undefined;
  /** Accepted deploy inputs, in order (`mutation` names which). */
  deploys(): { mutation: string; input: Record<string, unknown> }[];
  /** Every request: operation name, status, auth kind (never the key). */
  requests(): (RequestRecord & { operation: string })[];
}

export interface RunPodReplicaHandle {
  /** The GraphQL endpoint, as the adapter's baseUrl. */
  url: string;
  admin: RunPodReplicaAdmin;
  close(): Promise<void>;
}

type Desired = 'RUNNING' | 'EXITED' | 'TERMINATED';

interface PodRec {
  id: string;
  name: string;
  imageName: string;
  gpu: RunPodReplicaGpuType;
  gpuCount: number;
  dc: RunPodReplicaDataCenter;
  machineId: string;
  podType: 'RESERVED' | 'INTERRUPTABLE';
  bidPerGpu?: number;
  env: { key: string; value: string }[];
  ports: string;
  containerDiskInGb: number;
  volumeInGb: number;
  desired: Desired;
  lastStatusChange: string;
  publicKey: string;
  /** Backing machines so far (a resumed spot pod gets a new one). */
  generation: number;
  backingId?: string | undefined;
  provisioning?: Promise<void>;
  startedAt?: number | undefined;
}

const runpodError = (message: string) => new GraphQLError(message, { extensions: { code: 'RUNPOD' } });
const podId = () => Array.from(randomBytes(14), (b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');

function stockStatus(free: number): string | null {
  if (free >= 8) return 'High';
  if (free >= 3) return 'Medium';
  if (free >= 1) return 'Low';
  return null;
}

/** RunPod's "Rented by User: <date>" style. */
function statusChange(what: string, at = new Date()): string {
  return `${what}: ${at.toUTCString()}`;
}

export async function startRunPodReplica(opts: RunPodReplicaOptions): Promise<RunPodReplicaHandle> {
  const backing = new BackingCloud(opts.localCloud, opts.backing, 'runpod');
  const catalog = structuredClone(opts.catalog ?? DEFAULT_RUNPOD_REPLICA_CATALOG);
  const maxPods = opts.quota?.maxPods ?? 50;
  const keyDigest = createHash('sha256').update(opts.apiKey).digest();
  const schema = buildSchema(RUNPOD_REPLICA_SDL);

  const pods = new Map<string, PodRec>();
  const deploys: { mutation: string; input: Record<string, unknown> }[] = [];
  const requests: (RequestRecord & { operation: string })[] = [];
  const background = new Set<Promise<unknown>>();

  let capacityFaults: RunPodCapacityFault[] = [];
  let insufficientBalance = false;
  let rateLimitFaults: (CountedFault & { retryAfterSeconds?: number; retryAfterHeader?: boolean })[] = [];
  let failFaults: (CountedFault & { status?: 500 | 502 | 503; retryAfterSeconds?: number })[] = [];
  let internalErrors = 0;
  const malformed: MalformFault[] = [];

  const track = <T>(p: Promise<T>): Promise<T> => {
    background.add(p);
    void p.finally(() => background.delete(p)).catch(() => undefined);
    return p;
  };

  // --- capacity ---------------------------------------------------------------------------------

  const gpuById = (id: string) => catalog.gpuTypes.find((g) => g.id === id);
  const used = (dc: RunPodReplicaDataCenter, gpu: RunPodReplicaGpuType) =>
    [...pods.values()].filter((p) => p.desired === 'RUNNING' && p.dc === dc && p.gpu === gpu).reduce((n, p) => n + p.gpuCount, 0);
  const faulted = (dc: RunPodReplicaDataCenter, gpu: RunPodReplicaGpuType, catalogView: boolean) =>
    capacityFaults.some((f) => (!catalogView || f.hideFromCatalog) && (!f.gpuTypeId || f.gpuTypeId === gpu.id) && (!f.dataCenterId || f.dataCenterId === dc.id));
  /** Free GPUs of a type in a data center, as the catalog reports them. */
  const free = (dc: RunPodReplicaDataCenter, gpu: RunPodReplicaGpuType) => (faulted(dc, gpu, true) ? 0 : Math.max(0, (dc.gpus[gpu.id] ?? 0) - used(dc, gpu)));
  const canRent = (dc: RunPodReplicaDataCenter, gpu: RunPodReplicaGpuType, count: number) => !faulted(dc, gpu, false) && free(dc, gpu) >= count;

  // --- pods ---------------------------------------------------------------------------------------

  function startMachine(p: PodRec): void {
    const generation = ++p.generation;
    p.backingId = undefined;
    p.startedAt = undefined;
    p.provisioning = track(
      (async () => {
        try {
          const inst = await backing.create(generation === 1 ? p.id : `${p.id}-g${generation}`, p.name, p.publicKey);
          if (p.generation !== generation) return;
          p.backingId = inst.cloudId;
          if (p.desired !== 'RUNNING') void track(backing.terminate(inst.cloudId).catch(() => undefined));
        } catch (err) {
          if (p.generation === generation && p.desired === 'RUNNING') {
            p.desired = 'EXITED';
            p.lastStatusChange = statusChange(`Exited by RunPod: the container could not start (${(err as Error).message})`);
          }
        }
      })(),
    );
  }

  async function stopMachine(p: PodRec): Promise<void> {
    await p.provisioning;
    const id = p.backingId;
    p.startedAt = undefined;
    if (id) await backing.terminate(id).catch(() => undefined);
  }

  /** Brings a record up to date with its machine: a machine that ended on its own exits the pod. */
  function observe(p: PodRec, b: Instance | undefined): void {
    if (p.desired !== 'RUNNING' || !p.backingId) return;
    const s = b?.status.lifecycleStatus;
    if (s === 'running') p.startedAt ??= Date.now();
    else if (s === 'terminated' || s === 'failed' || s === undefined) {
      p.desired = 'EXITED';
      p.startedAt = undefined;
      p.lastStatusChange = statusChange('Exited by RunPod: the container exited');
    }
  }

  function podWire(p: PodRec, b: Instance | undefined): Record<string, unknown> {
    observe(p, b);
    const up = p.desired === 'RUNNING' && b?.status.lifecycleStatus === 'running';
    const uptime = up && p.startedAt ? Math.floor((Date.now() - p.startedAt) / 1000) : 0;
    const perGpu = p.podType === 'INTERRUPTABLE' ? (p.bidPerGpu ?? p.gpu.minimumBidPrice) : p.gpu.securePrice;
    return {
      id: p.id,
      name: p.name,
      desiredStatus: p.desired,
      podType: p.podType,
      costPerHr: p.desired === 'RUNNING' ? Math.round(perGpu * p.gpuCount * 1e6) / 1e6 : 0,
      adjustedCostPerHr: p.desired === 'RUNNING' ? Math.round(perGpu * p.gpuCount * 1e6) / 1e6 : 0,
      gpuCount: p.gpuCount,
      vcpuCount: p.gpu.minVcpu * p.gpuCount,
      memoryInGb: p.gpu.minMemory * p.gpuCount,
      containerDiskInGb: p.containerDiskInGb,
      volumeInGb: p.volumeInGb,
      volumeMountPath: '/workspace',
      imageName: p.imageName,
      env: p.env.map((e) => `${e.key}=${e.value}`),
      ports: p.ports,
      machineId: p.machineId,
      machine: { podHostId: `${p.id}-${p.machineId.slice(0, 8)}`, gpuDisplayName: p.gpu.displayName, dataCenterId: p.dc.id, location: p.dc.location },
      lastStatusChange: p.lastStatusChange,
      uptimeSeconds: uptime,
      runtime: up
        ? {
            uptimeInSeconds: uptime,
            ports: [{ ip: b.publicIp, isIpPublic: true, privatePort: 22, publicPort: b.sshPort, type: 'tcp' }],
            gpus: Array.from({ length: p.gpuCount }, (_, i) => ({ id: `GPU-${p.machineId}-${i}`, gpuUtilPercent: 0, memoryUtilPercent: 0 })),
          }
        : null,
      locked: false,
      lowestBidPriceToResume: p.podType === 'INTERRUPTABLE' ? p.gpu.minimumBidPrice : null,
      gpuflowReplica: { sshUser: b?.sshUser ?? null },
    };
  }

  async function podWires(recs: PodRec[]): Promise<Record<string, unknown>[]> {
    const bs = await backing.getMany(recs.filter((p) => p.backingId).map((p) => p.backingId!));
    return recs.map((p) => podWire(p, p.backingId ? bs.get(p.backingId) : undefined));
  }

  function deploy(mutation: string, input: Record<string, unknown>, bidPerGpu: number | undefined): PodRec {
    const gpuTypeId = input.gpuTypeId as string | undefined;
    if (!gpuTypeId) throw runpodError('gpuTypeId is required');
    const gpu = gpuById(gpuTypeId);
    if (!gpu) throw runpodError(`GPU type "${gpuTypeId}" does not exist`);
    const gpuCount = (input.gpuCount as number | undefined) ?? 1;
    if (!Number.isInteger(gpuCount) || gpuCount < 1 || gpuCount > gpu.maxGpuCount) throw runpodError(`gpuCount must be between 1 and ${gpu.maxGpuCount} for ${gpu.id}`);
    if (!input.imageName && !input.templateId) throw runpodError('imageName is required when no templateId is given');
    if (input.templateId) throw runpodError(`template "${String(input.templateId)}" does not exist`);
    const env = (input.env as { key: string; value: string }[] | undefined) ?? [];
    if (new Set(env.map((e) => e.key)).size !== env.length) throw runpodError('env keys must be unique');
    if (insufficientBalance) throw runpodError('Insufficient funds: your balance is too low to rent this pod.');
    if ([...pods.values()].filter((p) => p.desired !== 'TERMINATED').length >= maxPods) throw runpodError(`You have reached the limit of ${maxPods} pods for this account.`);
    if (bidPerGpu !== undefined && bidPerGpu < gpu.minimumBidPrice) {
      throw runpodError(`Your bid per GPU ($${bidPerGpu}/hr) is below the minimum bid of $${gpu.minimumBidPrice}/hr for ${gpu.displayName}.`);
    }
    // This replica has Secure Cloud hosts only: a Community Cloud request finds no machine.
    const cloud = (input.cloudType as string | undefined) ?? 'ALL';
    const wanted = input.dataCenterId as string | undefined;
    const dc =
      cloud === 'COMMUNITY'
        ? undefined
        : catalog.dataCenters.find((d) => (!wanted || d.id === wanted) && (d.gpus[gpu.id] ?? 0) > 0 && canRent(d, gpu, gpuCount));
    if (!dc) throw runpodError(RUNPOD_CAPACITY_MESSAGE);

    const publicKey = env.find((e) => e.key === 'PUBLIC_KEY')?.value?.trim() || generateSshKeyPair('runpod-replica-nobody').publicKey;
    const rec: PodRec = {
      id: podId(),
      name: (input.name as string | undefined) || 'RunPod Pod',
      imageName: (input.imageName as string | undefined) ?? '',
      gpu,
      gpuCount,
      dc,
      machineId: podId().slice(0, 12),
      podType: bidPerGpu === undefined ? 'RESERVED' : 'INTERRUPTABLE',
      ...(bidPerGpu !== undefined ? { bidPerGpu } : {}),
      env: env.map((e) => ({ key: e.key, value: e.value })),
      ports: (input.ports as string | undefined) ?? '',
      containerDiskInGb: (input.containerDiskInGb as number | undefined) ?? 50,
      volumeInGb: (input.volumeInGb as number | undefined) ?? 0,
      desired: 'RUNNING',
      lastStatusChange: statusChange('Rented by User'),
      publicKey,
      generation: 0,
    };
    pods.set(rec.id, rec);
    deploys.push({ mutation, input: structuredClone(input) });
    startMachine(rec);
    return rec;
  }

  async function interrupt(p: PodRec, why: string): Promise<void> {
    if (p.podType !== 'INTERRUPTABLE' || p.desired !== 'RUNNING') return;
    p.desired = 'EXITED';
    p.lastStatusChange = statusChange(`Exited by RunPod: ${why}`);
    await stopMachine(p);
  }

  const live = (id: string) => {
    const p = pods.get(id);
    return p && p.desired !== 'TERMINATED' ? p : undefined;
  };

  // --- resolvers (graphql-js root value: one function per Query/Mutation field) -------------------

  function gpuTypeWire(g: RunPodReplicaGpuType) {
    return {
      id: g.id,
      displayName: g.displayName,
      manufacturer: g.manufacturer,
      memoryInGb: g.memoryInGb,
      secureCloud: true,
      communityCloud: false,
      securePrice: g.securePrice,
      communityPrice: null,
      secureSpotPrice: g.secureSpotPrice,
      communitySpotPrice: null,
      maxGpuCount: g.maxGpuCount,
      maxGpuCountSecureCloud: g.maxGpuCount,
      maxGpuCountCommunityCloud: 0,
      lowestPrice: ({ input }: { input?: { gpuCount?: number | null; secureCloud?: boolean | null; dataCenterId?: string | null } | null }) => {
        const count = input?.gpuCount ?? 1;
        const dcs = catalog.dataCenters.filter((d) => (!input?.dataCenterId || d.id === input.dataCenterId) && (d.gpus[g.id] ?? 0) > 0);
        if (input?.secureCloud === false || dcs.length === 0) return null;
        const most = Math.max(...dcs.map((d) => free(d, g)));
        return {
          gpuName: g.displayName,
          gpuTypeId: g.id,
          minimumBidPrice: g.minimumBidPrice,
          uninterruptablePrice: g.securePrice,
          minVcpu: g.minVcpu,
          minMemory: g.minMemory,
          stockStatus: most >= count ? stockStatus(most) : null,
          availableGpuCounts: [1, 2, 4, 8].filter((n) => n <= most && n <= g.maxGpuCount),
          maxUnreservedGpuCount: most,
        };
      },
      nodeGroupDatacenters: () => catalog.dataCenters.filter((d) => (d.gpus[g.id] ?? 0) > 0).map(dataCenterWire),
    };
  }

  function dataCenterWire(d: RunPodReplicaDataCenter) {
    return {
      id: d.id,
      name: d.name,
      location: d.location,
      listed: true,
      storageSupport: true,
      globalNetwork: false,
      gpuAvailability: Object.keys(d.gpus)
        .map(gpuById)
        .filter((g): g is RunPodReplicaGpuType => g !== undefined)
        .map((g) => {
          const n = free(d, g);
          return { id: `${d.id}:${g.id}`, available: n > 0, stockStatus: stockStatus(n), gpuTypeId: g.id, gpuTypeDisplayName: g.displayName, displayName: g.displayName };
        }),
    };
  }

  type Input = { input?: Record<string, unknown> | null };
  const rootValue = {
    myself: () => ({ id: 'user_replica', pods: () => podWires([...pods.values()].filter((p) => p.desired !== 'TERMINATED')) }),
    pod: async ({ input }: Input) => {
      const p = live(String(input?.podId ?? ''));
      return p ? (await podWires([p]))[0] : null;
    },
    gpuTypes: ({ input }: Input) =>
      catalog.gpuTypes
        .filter((g) => (!input?.id || g.id === input.id) && (!Array.isArray(input?.ids) || (input.ids as string[]).includes(g.id)))
        .map(gpuTypeWire),
    dataCenters: () => catalog.dataCenters.map(dataCenterWire),
    podFindAndDeployOnDemand: async ({ input }: Input) => (await podWires([deploy('podFindAndDeployOnDemand', input ?? {}, undefined)]))[0],
    podRentInterruptable: async ({ input }: Input) => {
      const i = input ?? {};
      return (await podWires([deploy('podRentInterruptable', i, i.bidPerGpu as number)]))[0];
    },
    podBidResume: async ({ input }: Input) => {
      const p = live(String(input?.podId ?? ''));
      if (!p) throw runpodError('pod not found');
      if (p.podType !== 'INTERRUPTABLE') throw runpodError('only interruptible pods can be resumed with a bid');
      if (p.desired === 'RUNNING') throw runpodError('the pod is already running');
      const bid = input!.bidPerGpu as number;
      if (bid < p.gpu.minimumBidPrice) throw runpodError(`Your bid per GPU ($${bid}/hr) is below the minimum bid of $${p.gpu.minimumBidPrice}/hr for ${p.gpu.displayName}.`);
      if (!canRent(p.dc, p.gpu, p.gpuCount)) throw runpodError(RUNPOD_CAPACITY_MESSAGE);
      p.bidPerGpu = bid;
      p.desired = 'RUNNING';
      p.lastStatusChange = statusChange('Resumed by User');
      startMachine(p);
      return (await podWires([p]))[0];
    },
    podTerminate: ({ input }: Input) => {
      const p = live(String(input?.podId ?? ''));
      if (!p) throw runpodError('pod not found to terminate');
      p.desired = 'TERMINATED';
      p.lastStatusChange = statusChange('Terminated by User');
      void track(stopMachine(p));
      return null;
    },
  };

  // --- the server ---------------------------------------------------------------------------------

  function authorized(req: http.IncomingMessage, url: URL, rec: RequestRecord): boolean {
    const h = req.headers.authorization;
    let key: string | undefined;
    if (typeof h === 'string' && /^Bearer /i.test(h)) {
      rec.auth = 'bearer';
      key = h.slice(7).trim();
    } else if (url.searchParams.has('api_key')) {
      rec.auth = 'query';
      key = url.searchParams.get('api_key') ?? '';
    }
    return key !== undefined && timingSafeEqual(createHash('sha256').update(key).digest(), keyDigest);
  }

  const gqlErrors = (status: number, code: string, errors: readonly { message: string; locations?: unknown }[]) => ({
    status,
    body: { errors: errors.map((e) => ({ message: e.message, ...(e.locations ? { locations: e.locations } : {}), extensions: { code } })) },
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL, rec: RequestRecord & { operation: string }): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> {
    if (url.pathname.replace(/\/+$/, '') !== PATH) return { status: 404, body: 'Not Found' };
    if (req.method !== 'POST') return { status: 405, body: { errors: [{ message: 'GraphQL requests must be POST with a JSON body' }] } };
    if (!authorized(req, url, rec)) return { status: 401, body: { errors: [{ message: 'Unauthorized' }] } };
    const fail = takeCounted(failFaults, 'POST', PATH);
    if (fail) return { status: fail.status ?? 503, body: 'upstream unavailable', headers: fail.retryAfterSeconds !== undefined ? { 'retry-after': String(fail.retryAfterSeconds) } : {} };
    const limited = takeCounted(rateLimitFaults, 'POST', PATH);
    if (limited) {
      const s = limited.retryAfterSeconds ?? 1;
      return { status: 429, body: { errors: [{ message: 'Too many requests' }] }, headers: (limited.retryAfterHeader ?? true) ? { 'retry-after': String(s) } : {} };
    }
    const { json, invalidJson } = await readBody(req);
    const b = json as { query?: unknown; variables?: unknown; operationName?: unknown } | undefined;
    if (invalidJson || typeof b !== 'object' || b === null || typeof b.query !== 'string') return gqlErrors(400, 'BAD_REQUEST', [{ message: 'POST body must be JSON with a "query" string' }]);
    rec.operation = typeof b.operationName === 'string' ? b.operationName : '';
    const spoiled = takeMalform(malformed, 'POST', PATH, rec.operation);
    if (spoiled) spoilResponse(res, spoiled.kind);
    let document: DocumentNode;
    try {
      document = parse(b.query);
    } catch (e) {
      return gqlErrors(400, 'GRAPHQL_PARSE_FAILED', [e as GraphQLError]);
    }
    const invalid = validate(schema, document);
    if (invalid.length > 0) return gqlErrors(400, 'GRAPHQL_VALIDATION_FAILED', invalid);
    if (internalErrors > 0) {
      internalErrors -= 1;
      return { status: 200, body: { errors: [{ message: INTERNAL_MESSAGE, extensions: { code: 'INTERNAL_SERVER_ERROR' } }], data: null } };
    }
    const result = await execute({
      schema,
      document,
      rootValue,
      variableValues: (b.variables ?? undefined) as Record<string, unknown> | undefined,
      operationName: typeof b.operationName === 'string' ? b.operationName : undefined,
    });
    // Variables that do not fit their types: no execution at all (Apollo answers 400).
    if (!('data' in result) || result.data === undefined) return gqlErrors(400, 'BAD_USER_INPUT', result.errors ?? []);
    return { status: 200, body: JSON.parse(JSON.stringify(result)) as unknown };
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://replica');
    const rec = { method: (req.method ?? 'GET').toUpperCase(), path: url.pathname, status: 0, auth: 'none', at: Date.now(), operation: '' };
    requests.push(rec);
    handle(req, res, url, rec)
      .catch(() => ({ status: 500, body: { errors: [{ message: INTERNAL_MESSAGE, extensions: { code: 'INTERNAL_SERVER_ERROR' } }] } as unknown, headers: {} }))
      .then((out) => {
        rec.status = out.status;
        send(res, out.status, out.body, out.headers ?? {});
      })
      .catch(() => undefined);
  });
  server.keepAliveTimeout = 2_000;
  const base = await listen(server, opts.host, opts.port);

  const admin: RunPodReplicaAdmin = {
    setOutOfCapacity: (f) => void (capacityFaults = f.map((x) => ({ ...x }))),
    setInsufficientBalance: (on) => void (insufficientBalance = on),
    rateLimitNext: (f) => void rateLimitFaults.push({ ...f }),
    failNext: (f) => void failFaults.push({ ...f }),
    malformNext: (f) => void malformed.push({ ...f, methods: ['POST'] }),
    internalErrorNext: (count) => void (internalErrors = count),
    async setMinimumBid(gpuTypeId, price) {
      const g = gpuById(gpuTypeId);
      if (!g) throw new Error(`no GPU type ${gpuTypeId} in the replica's catalog`);
      g.minimumBidPrice = price;
      const outbid = [...pods.values()].filter((p) => p.gpu === g && p.podType === 'INTERRUPTABLE' && p.desired === 'RUNNING' && (p.bidPerGpu ?? 0) < price);
      await Promise.all(outbid.map((p) => interrupt(p, 'outbid')));
    },
    async interrupt(id) {
      const p = live(id);
      if (!p || p.podType !== 'INTERRUPTABLE') throw new Error(`pod ${id} is not a live interruptible pod`);
      await interrupt(p, 'the host was reclaimed');
    },
    clearFaults: () => {
      capacityFaults = [];
      insufficientBalance = false;
      rateLimitFaults = [];
      failFaults = [];
      internalErrors = 0;
      malformed.length = 0;
    },
    pods: async () => podWires([...pods.values()]),
    backingId: (id) => pods.get(id)?.backingId,
    deploys: () => deploys.map((d) => structuredClone(d)),
    requests: () => requests.map((r) => ({ ...r })),
  };

  return {
    url: `${base}${PATH}`,
    admin,
    async close() {
      await closeServer(server);
      await Promise.allSettled([...background]);
    },
  };
}
