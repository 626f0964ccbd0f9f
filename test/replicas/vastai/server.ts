/**
 * A stateful replica of Vast.ai's REST API (shared/specs/vastai-openapi.yaml, docs.vast.ai) on
 * 127.0.0.1, for tests: a marketplace of machines whose asks are searched (`POST /api/v0/bundles/`)
 * and accepted (`PUT /api/v0/asks/{id}/`), instances that are Docker-like containers backed by real
 * local cloud instances (sshd), Bearer auth, Vast's error bodies and its per-endpoint minimum
 * intervals between calls (429 "API requests too frequent endpoint threshold=X", no Retry-After).
 *
 * Marketplace rules modelled (guides/instances/choosing/instance-types): a machine's ask is listed
 * while nobody rents it on demand; an interruptible (bid) rental leaves it listed on demand, and an
 * on-demand rental (or a higher bid, `admin.outbid`) pauses the interruptible instance, which
 * resumes when the machine is free again. Every listing gets a new ask ID: a re-listed machine's
 * old ask is `no_such_ask`.
 *
 * Test-only extension: instances carry `gpuflow_replica: {ssh_user}` (the machines are sshd
 * processes of the test user, not root containers).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { Instance } from '../../../src/providers/sdk/types.js';
import { generateSshKeyPair } from '../../../src/ssh/sshClient.js';
import {
  BackingCloud,
  closeServer,
  matchRoute,
  readBody,
  ReplicaResponse,
  route,
  send,
  takeCounted,
  TokenBucket,
  type CountedFault,
  type MalformFault,
  type RequestRecord,
  type Route,
  serveReplica,
} from '../shared.js';
import { DEFAULT_VASTAI_REPLICA_MACHINES, type VastReplicaMachine } from './catalog.js';

/**
 * Vast's documented minimum intervals (ms) per method and endpoint: the docs' rate-limit table
 * (GET /instances/ 0.5/s, PUT /instances/{id}/ 1/s, DELETE /instances/{id}/ 0.33/s, GET /ssh/ 1/s)
 * and the spec's 429 examples ("threshold=4.5" for create, 2.0 for show instance, 1.0 for
 * show instances, create ssh-key and reboot). Endpoints with no documented limit have none here.
 */
export const VASTAI_DOCUMENTED_RATE_LIMITS: Readonly<Record<string, number>> = {
  'PUT /api/v0/asks/:id': 4_500,
  'GET /api/v0/instances/:id': 2_000,
  'PUT /api/v0/instances/:id': 1_000,
  'DELETE /api/v0/instances/:id': 3_000,
  'GET /api/v1/instances': 1_000,
  'GET /api/v0/ssh': 1_000,
  'POST /api/v0/ssh': 1_000,
  'PUT /api/v0/instances/reboot/:id': 1_000,
};

export interface VastaiReplicaOptions {
  localCloud: { url: string; token: string };
  apiKey: string;
  backing?: { type: string; location: string };
  machines?: readonly VastReplicaMachine[];
  /** Minimum interval (ms) per "METHOD /route"; default the documented ones; false: none. */
  rateLimits?: Readonly<Record<string, number>> | false;
  /** How long a new contract is scheduled (`actual_status: null`) before its container starts; default 150 ms. */
  schedulingMs?: number;
  host?: string;
  port?: number;
}

export interface VastCapacityFault {
  /** Vast's GPU name, e.g. "H100 SXM"; omitted = any. */
  gpuName?: string;
  /** ISO alpha-2; omitted = anywhere. */
  country?: string;
  /** Also stop listing the asks (default: search stays stale, accepting fails with no_such_ask). */
  hideFromCatalog?: boolean;
}

export interface VastaiReplicaAdmin {
  setOutOfCapacity(faults: VastCapacityFault[]): void;
  setInsufficientCredit(on: boolean): void;
  /** 429s for the next `count` matching requests: JSON `{detail}` by default, `text: true` for a plain-text body. */
  /** The next matching 2xx answers are spoiled: an HTML page, truncated JSON, or JSON of the wrong types (see shared.ts). */
  malformNext(f: MalformFault): void;
  rateLimitNext(f: CountedFault & { threshold?: number; retryAfterSeconds?: number; text?: boolean }): void;
  failNext(f: CountedFault & { status?: 500 | 502 | 503 }): void;
  setRateLimits(limits: Readonly<Record<string, number>> | false): void;
  clearFaults(): void;
  /** Someone outbids (or rents on demand) the machine of this interruptible instance: it is paused. */
  outbid(instanceId: string): void;
  /** That renter leaves: the machine is free and a paused interruptible instance resumes. */
  endOutbid(instanceId: string): void;
  /** Every instance ever made (destroyed ones too), as show instance shows them, with `destroyed`. */
  instances(): Promise<Record<string, unknown>[]>;
  backingId(id: string): string | undefined;
  /** Keys attached to the instance (`POST /api/v0/instances/{id}/ssh/` and account keys). */
  instanceKeys(id: string): string[];
  accountKeys(): { id: number; key: string }[];
  /** Accepted create bodies with their ask ID, in order. */
  creates(): (Record<string, unknown> & { ask_id: number })[];
  /** Current ask ID of a machine, if listed. */
  askOf(machineId: number): number | undefined;
  requests(): RequestRecord[];
}

export interface VastaiReplicaHandle {
  /** The adapter's baseUrl (paths start with /api/v0 or /api/v1). */
  url: string;
  admin: VastaiReplicaAdmin;
  close(): Promise<void>;
}

interface MachineState {
  spec: VastReplicaMachine;
  askId: number;
  /** Rented by another Vast user (on demand or a higher bid). */
  foreign: boolean;
}

interface Rec {
  id: number;
  machine: MachineState;
  isBid: boolean;
  /** $/h: the bid, or the ask's on-demand price. */
  price: number;
  label: string;
  image: string;
  disk: number;
  env: Record<string, string>;
  runtype: string;
  keys: string[];
  startDate: number;
  intended: 'running' | 'stopped';
  started: boolean;
  backingId?: string | undefined;
  outbid: boolean;
  rebooting: boolean;
  destroyed: boolean;
  /** The machine's stop/start calls, one after the other (a resume must not overtake a pause). */
  ops: Promise<void>;
  opsInFlight: number;
}

type ErrBody = { success: false; error: string; msg: string; ask_id?: number };
const e = (status: number, error: string, msg: string, extra: Partial<ErrBody> = {}, headers: Record<string, string> = {}) =>
  new ReplicaResponse(status, { success: false, error, msg, ...extra }, headers);
const E = {
  auth: (status = 401) => e(status, 'auth_error', 'Invalid user key'),
  noSuchAsk: (id: number, gone: boolean) =>
    gone
      ? e(410, 'no_such_ask', `error 410/3907: no_such_ask Instance type ${id} is no longer available.`, { ask_id: id })
      : e(404, 'invalid_args', `error 404/3603: no_such_ask Instance type by id ${id} is not available.`, { ask_id: id }),
  invalidArgs: (msg: string, status = 400) => e(status, 'invalid_args', msg),
  invalidRequest: (msg: string) => new ReplicaResponse(400, { error: 'invalid_request', msg }),
  noSuchInstance: () => e(404, 'no_such_instance', 'Instance with that ID does not exist.'),
  instanceNotFound: () => e(404, 'not_found', 'Instance not found'),
  credit: () => e(400, 'insufficient_credit', 'Insufficient credit: add credit to your account to rent this machine.'),
  internal: (status = 500) => e(status, 'server_error', 'Internal server error'),
};

const PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$/;
const keyBody = (k: string) => k.trim().split(/\s+/).slice(0, 2).join(' ');
const FIRST_ASK_ID = 7_301_000;
const FIRST_INSTANCE_ID = 21_450_000;
const USER_ID = 424242;

/** Search filter fields the replica knows, with how each reads an offer; others are a 400 like Vast's. */
type OfferWire = Record<string, unknown>;
const FILTERABLE = new Set([
  'id', 'machine_id', 'host_id', 'gpu_name', 'num_gpus', 'gpu_ram', 'gpu_total_ram', 'gpu_arch', 'cpu_arch', 'cpu_cores', 'cpu_cores_effective',
  'cpu_ram', 'disk_space', 'dph_total', 'min_bid', 'reliability', 'verification', 'rentable', 'rented', 'verified', 'geolocation', 'duration',
]);

function compare(v: unknown, op: string, arg: unknown): boolean {
  switch (op) {
    case 'eq':
      return v === arg;
    case 'neq':
      return v !== arg;
    case 'gt':
      return typeof v === 'number' && typeof arg === 'number' && v > arg;
    case 'gte':
      return typeof v === 'number' && typeof arg === 'number' && v >= arg;
    case 'lt':
      return typeof v === 'number' && typeof arg === 'number' && v < arg;
    case 'lte':
      return typeof v === 'number' && typeof arg === 'number' && v <= arg;
    case 'in':
      return Array.isArray(arg) && arg.includes(v);
    case 'notin':
      return Array.isArray(arg) && !arg.includes(v);
    default:
      throw E.invalidRequest(`Error in query parameters: ${op} is not a valid operator`);
  }
}

export async function startVastaiReplica(opts: VastaiReplicaOptions): Promise<VastaiReplicaHandle> {
  const backing = new BackingCloud(opts.localCloud, opts.backing, 'vastai');
  const keyDigest = createHash('sha256').update(opts.apiKey).digest();
  const schedulingMs = opts.schedulingMs ?? 150;
  const strayKey = generateSshKeyPair('vastai-replica-no-key').publicKey;

  let nextAsk = FIRST_ASK_ID;
  let nextInstance = FIRST_INSTANCE_ID;
  let nextKey = 9001;
  const issuedAsks = new Set<number>();
  const newAsk = () => {
    const id = nextAsk++;
    issuedAsks.add(id);
    return id;
  };
  const machines: MachineState[] = (opts.machines ?? DEFAULT_VASTAI_REPLICA_MACHINES).map((m) => ({ spec: structuredClone(m), askId: newAsk(), foreign: false }));
  const instances = new Map<number, Rec>();
  const accountKeys: { id: number; key: string; created_at: string }[] = [];
  const creates: (Record<string, unknown> & { ask_id: number })[] = [];
  const requests: RequestRecord[] = [];
  const background = new Set<Promise<unknown>>();
  const buckets = new Map<string, TokenBucket>();

  let limits: Readonly<Record<string, number>> | false = opts.rateLimits ?? VASTAI_DOCUMENTED_RATE_LIMITS;
  let capacityFaults: VastCapacityFault[] = [];
  let insufficientCredit = false;
  let rateLimitFaults: (CountedFault & { threshold?: number; retryAfterSeconds?: number; text?: boolean })[] = [];
  let failFaults: (CountedFault & { status?: 500 | 502 | 503 })[] = [];

  const track = <T>(p: Promise<T>): Promise<T> => {
    background.add(p);
    void p.finally(() => background.delete(p)).catch(() => undefined);
    return p;
  };

  // --- the marketplace --------------------------------------------------------------------------

  const rentals = (m: MachineState) => [...instances.values()].filter((r) => !r.destroyed && r.machine === m);
  const onDemandRented = (m: MachineState) => m.foreign || rentals(m).some((r) => !r.isBid);
  const capacityFault = (m: MachineState, hiddenOnly: boolean) =>
    capacityFaults.some((f) => (!hiddenOnly || f.hideFromCatalog) && (!f.gpuName || f.gpuName === m.spec.gpuName) && (!f.country || f.country === m.spec.country));
  /** Listed on demand while nobody rents it on demand; for bids only while nobody rents it at all. */
  const listed = (m: MachineState, bid: boolean) => !onDemandRented(m) && (!bid || rentals(m).length === 0) && !capacityFault(m, true);

  function offerWire(m: MachineState, bid: boolean): OfferWire {
    const s = m.spec;
    const dph = bid ? s.minBid : s.dphTotal;
    return {
      id: m.askId,
      ask_contract_id: m.askId,
      bundle_id: m.askId * 10 + 1,
      bundled_results: null,
      machine_id: s.machineId,
      host_id: s.hostId,
      gpu_name: s.gpuName,
      num_gpus: s.numGpus,
      gpu_ram: s.gpuRamMb,
      gpu_total_ram: s.gpuRamMb * s.numGpus,
      gpu_arch: s.gpuArch,
      gpu_frac: 1,
      cpu_arch: s.cpuArch,
      cpu_cores: s.cpuCores,
      cpu_cores_effective: s.cpuCoresEffective,
      cpu_ram: s.cpuRamMb,
      disk_space: s.diskSpaceGb,
      dph_base: dph,
      dph_total: dph,
      min_bid: s.minBid,
      is_bid: bid,
      rentable: true,
      // This account already rents GPUs there (an interruptible it could displace itself).
      rented: rentals(m).length > 0,
      geolocation: s.geolocation,
      reliability: s.reliability,
      reliability2: s.reliability,
      verification: s.verification,
      static_ip: true,
      public_ipaddr: '127.0.0.1',
      direct_port_count: 20,
      inet_down: 950.2,
      inet_up: 870.9,
      cuda_max_good: 12.4,
      driver_version: '550.54.15',
      bw_nvlink: 0,
      duration: 2_592_000,
      search: { gpuCostPerHour: dph, diskHour: 0, totalHour: dph, discountTotalHour: 0, discountedTotalPerHour: dph },
    };
  }

  /** The value a filter compares, for the offer of machine `m`. */
  function filterValue(m: MachineState, w: OfferWire, field: string): unknown {
    if (field === 'verified') return m.spec.verification === 'verified';
    if (field === 'geolocation') return m.spec.country;
    return w[field];
  }

  function search(body: Record<string, unknown>): OfferWire[] {
    const type = body.type ?? 'ondemand';
    if (!['ondemand', 'on-demand', 'bid', 'reserved'].includes(type as string)) throw E.invalidRequest(`Error in query parameters: type must be ondemand, bid or reserved`);
    const bid = type === 'bid';
    const filters: [string, Record<string, unknown>][] = [];
    const withDefaults = { verified: { eq: true }, rentable: { eq: true }, rented: { eq: false }, ...body };
    for (const [k, v] of Object.entries(withDefaults)) {
      if (k === 'type' || k === 'order' || k === 'limit' || k === 'allocated_storage') continue;
      if (!FILTERABLE.has(k)) throw E.invalidRequest(`Error in query parameters: ${k} is not a valid search key`);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw E.invalidRequest(`Error in query parameters: ${k} must be an object such as {"eq": ...}`);
      filters.push([k, v as Record<string, unknown>]);
    }
    let out = machines
      .filter((m) => listed(m, bid))
      .map((m) => ({ m, w: offerWire(m, bid) }))
      .filter(({ m, w }) => filters.every(([k, ops]) => Object.entries(ops).every(([op, arg]) => compare(filterValue(m, w, k), op, arg))))
      .map(({ w }) => w);
    const order = body.order;
    if (order !== undefined) {
      if (!Array.isArray(order) || !order.every((o) => Array.isArray(o) && o.length === 2 && typeof o[0] === 'string')) throw E.invalidRequest('order must be a list of [field, "asc"|"desc"]');
      const keys = order as [string, string][];
      out = out.sort((a, b) => {
        for (const [f, dir] of keys) {
          const x = a[f] as number;
          const y = b[f] as number;
          if (x !== y) return (x < y ? -1 : 1) * (dir === 'desc' ? -1 : 1);
        }
        return 0;
      });
    }
    const limit = typeof body.limit === 'number' && body.limit > 0 ? Math.floor(body.limit) : 64;
    return out.slice(0, limit);
  }

  // --- instances --------------------------------------------------------------------------------

  function relist(m: MachineState): void {
    m.askId = newAsk();
  }

  function pauseBids(m: MachineState, except?: Rec): void {
    for (const r of rentals(m)) {
      if (r === except || !r.isBid || r.outbid) continue;
      r.outbid = true;
      backingOp(r, backingStop);
    }
  }

  function resumeBids(m: MachineState): void {
    if (onDemandRented(m)) return;
    for (const r of rentals(m)) {
      if (!r.isBid || !r.outbid) continue;
      r.outbid = false;
      if (r.intended === 'running') backingOp(r, backingStart);
    }
  }

  function backingOp(r: Rec, op: (backingId: string) => Promise<void>): void {
    r.opsInFlight++;
    r.ops = track(
      r.ops
        .then(() => (r.backingId && !r.destroyed ? op(r.backingId) : undefined))
        .catch(() => undefined)
        .finally(() => void r.opsInFlight--),
    );
  }

  async function backingStop(id: string): Promise<void> {
    const c = await backing.client();
    await c.stopInstance!(id).catch(() => undefined);
  }

  async function backingStart(id: string): Promise<void> {
    const c = await backing.client();
    // A stop still in progress must end first (the local cloud starts only stopped instances).
    for (let i = 0; i < 100; i++) {
      const b = await backing.get(id);
      if (!b || b.status.lifecycleStatus !== 'stopping') break;
      await new Promise((res) => setTimeout(res, 100));
    }
    await c.startInstance!(id).catch(() => undefined);
  }

  /** The container starts after scheduling, with the newest key it has (the backing sshd holds one). */
  function provision(r: Rec): void {
    void track(
      (async () => {
        await new Promise((res) => setTimeout(res, schedulingMs));
        if (r.destroyed) return;
        r.started = true;
        const key = r.keys.at(-1) ?? strayKey;
        try {
          const inst = await backing.create(String(r.id), `vast-${r.id}`, key);
          r.backingId = inst.cloudId;
          if (r.destroyed) await backing.terminate(inst.cloudId);
          else if (r.outbid || r.intended === 'stopped') backingOp(r, backingStop);
        } catch {
          r.backingId = undefined;
        }
      })(),
    );
  }

  function actualStatus(r: Rec, b: Instance | undefined): { actual: string | null; cur: string; msg: string | null } {
    if (!r.started) return { actual: null, cur: 'running', msg: null };
    if (r.outbid) return { actual: 'stopped', cur: 'stopped', msg: 'Instance outbid: paused until the machine is available at your bid.' };
    if (!b) return { actual: r.backingId === undefined ? 'loading' : 'offline', cur: 'running', msg: r.backingId === undefined ? 'Pulling image' : 'host offline' };
    // Being started again (after a stop or a pause): the container is loading.
    if (r.opsInFlight > 0 && r.intended === 'running' && b.status.lifecycleStatus !== 'running') return { actual: 'loading', cur: 'running', msg: 'starting' };
    switch (b.status.lifecycleStatus) {
      case 'pending':
        return r.rebooting ? { actual: 'rebooting', cur: 'running', msg: 'rebooting' } : { actual: 'loading', cur: 'running', msg: 'Pulling image' };
      case 'running':
        r.rebooting = false;
        return { actual: 'running', cur: r.intended, msg: `success, running ${r.image}/${r.runtype}` };
      case 'stopping':
        return { actual: 'running', cur: 'stopped', msg: 'stopping' };
      case 'stopped':
        return { actual: 'stopped', cur: 'stopped', msg: 'stopped' };
      default:
        return b.status.interruption === 'host-failure' ? { actual: 'offline', cur: 'running', msg: 'host offline' } : { actual: 'exited', cur: 'stopped', msg: 'container exited' };
    }
  }

  function instanceWire(r: Rec, b: Instance | undefined): Record<string, unknown> {
    const s = r.machine.spec;
    const { actual, cur, msg } = actualStatus(r, b);
    const running = actual === 'running' && b !== undefined && b.sshPort > 0;
    return {
      id: r.id,
      machine_id: s.machineId,
      host_id: s.hostId,
      actual_status: actual,
      intended_status: r.intended,
      cur_state: cur,
      next_state: r.outbid ? 'stopped' : r.intended,
      status_msg: msg,
      label: r.label || null,
      image_uuid: r.image,
      image_runtype: r.runtype,
      image_args: [],
      extra_env: Object.entries(r.env),
      onstart: null,
      template_id: null,
      template_hash_id: null,
      public_ipaddr: running ? b.publicIp : '',
      local_ipaddrs: '127.0.0.1 \n',
      ssh_host: running ? b.publicIp : '',
      ssh_idx: '0',
      ssh_port: running ? b.sshPort : null,
      ports: running ? { '22/tcp': [{ HostIp: '0.0.0.0', HostPort: String(b.sshPort) }] } : null,
      direct_port_start: running ? b.sshPort : null,
      direct_port_end: running ? b.sshPort : null,
      start_date: r.startDate,
      end_date: r.startDate + 2_592_000,
      duration: 2_592_000,
      is_bid: r.isBid,
      min_bid: s.minBid,
      dph_base: r.price,
      dph_total: r.price,
      gpu_name: s.gpuName,
      num_gpus: s.numGpus,
      gpu_ram: s.gpuRamMb,
      gpu_totalram: s.gpuRamMb * s.numGpus,
      gpu_arch: s.gpuArch,
      gpu_util: running ? 0 : null,
      cpu_arch: s.cpuArch,
      cpu_cores: s.cpuCores,
      cpu_cores_effective: s.cpuCoresEffective,
      cpu_ram: s.cpuRamMb,
      disk_space: r.disk,
      geolocation: s.geolocation,
      country_code: null,
      verification: s.verification,
      reliability2: s.reliability,
      rentable: true,
      volume_info: [],
      ...(b?.sshUser ? { gpuflow_replica: { ssh_user: b.sshUser } } : {}),
    };
  }

  async function wires(recs: Rec[]): Promise<Record<string, unknown>[]> {
    const bs = await backing.getMany(recs.filter((r) => r.backingId && !r.destroyed).map((r) => r.backingId!));
    return recs.map((r) => instanceWire(r, r.backingId ? bs.get(r.backingId) : undefined));
  }

  function findInstance(idText: string, notFound: () => ReplicaResponse): Rec {
    if (!/^\d+$/.test(idText)) throw E.invalidArgs('invalid instance_id');
    const r = instances.get(Number(idText));
    if (!r || r.destroyed) throw notFound();
    return r;
  }

  function destroy(r: Rec): void {
    r.destroyed = true;
    if (r.backingId) void track(backing.terminate(r.backingId).catch(() => undefined));
    const m = r.machine;
    if (!r.isBid || rentals(m).length === 0) relist(m);
    resumeBids(m);
  }

  function bodyObject(body: unknown, invalidJson: boolean): Record<string, unknown> {
    if (invalidJson || typeof body !== 'object' || body === null || Array.isArray(body)) throw E.invalidArgs('Invalid json body');
    return body as Record<string, unknown>;
  }

  /** `env` as the docs' object ({"K": "V"}) or the spec's docker flags ("-e K=V -p 8000:8000"). */
  function parseEnv(env: unknown): Record<string, string> {
    if (env === undefined || env === null) return {};
    if (typeof env === 'object' && !Array.isArray(env) && Object.values(env).every((v) => typeof v === 'string')) return { ...(env as Record<string, string>) };
    if (typeof env === 'string') {
      const out: Record<string, string> = {};
      for (const m of env.matchAll(/-e\s+([A-Za-z_][A-Za-z0-9_]*)=(\S*)/g)) out[m[1]] = m[2];
      return out;
    }
    throw E.invalidArgs('env must be an object of strings or a docker flag string');
  }

  // --- routes -----------------------------------------------------------------------------------

  /** Each route's path pattern ("/api/v0/asks/:id"): the endpoint its rate limit applies to. */
  const routeKeys = new Map<Route, string>();
  const at = (method: string, path: string, handler: Parameters<typeof route>[2]): Route => {
    const r = route(method, path, handler);
    routeKeys.set(r, path);
    return r;
  };

  const routes: Route[] = [
    at('POST', '/api/v0/bundles', async ({ body, invalidJson }) => {
      if (invalidJson || (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body)))) throw E.invalidRequest('Invalid json body');
      return { status: 200, body: { offers: search((body ?? {}) as Record<string, unknown>) } };
    }),

    at('PUT', '/api/v0/asks/:id', async ({ params, body, invalidJson }) => {
      if (!/^\d+$/.test(params.id)) throw E.invalidArgs(`error 400/3467: Invalid args: 'id' is required and must be a valid offer ID`);
      const askId = Number(params.id);
      const b = bodyObject(body, invalidJson);
      if (typeof b.image !== 'string' || !b.image) throw E.invalidArgs('error 400/3467: Invalid args: image is required', 400);
      if (b.label !== undefined && (typeof b.label !== 'string' || b.label.length > 1024)) throw E.invalidArgs('label must be a string of at most 1024 characters');
      if (b.disk !== undefined && (typeof b.disk !== 'number' || b.disk <= 0)) throw E.invalidArgs('disk must be a positive number of GB');
      const runtypes = ['ssh', 'jupyter', 'args', 'ssh_proxy', 'ssh_direct', 'jupyter_proxy', 'jupyter_direct'];
      if (b.runtype !== undefined && !runtypes.includes(b.runtype as string)) throw E.invalidArgs(`runtype must be one of ${runtypes.join(', ')}`);
      const bid = b.price !== undefined;
      if (bid && (typeof b.price !== 'number' || b.price < 0.001 || b.price > 128)) throw e(400, 'invalid_price', 'Please set a bid price >= 0.001 and <= 128.', { ask_id: askId });
      const env = parseEnv(b.env);
      const m = machines.find((x) => x.askId === askId && listed(x, bid));
      if (!m) throw E.noSuchAsk(askId, issuedAsks.has(askId) && b.cancel_unavail === true);
      if (capacityFault(m, false)) throw E.noSuchAsk(askId, b.cancel_unavail === true);
      if (bid && (b.price as number) < m.spec.minBid) throw e(400, 'invalid_price', `Your bid of $${String(b.price)}/hr is below the minimum bid of $${m.spec.minBid}/hr for this offer.`, { ask_id: askId });
      if (insufficientCredit) throw E.credit();
      const r: Rec = {
        id: nextInstance++,
        machine: m,
        isBid: bid,
        price: bid ? (b.price as number) : m.spec.dphTotal,
        label: (b.label as string | undefined) ?? '',
        image: b.image,
        disk: (b.disk as number | undefined) ?? 8,
        env,
        runtype: (b.runtype as string | undefined) ?? 'ssh',
        keys: accountKeys.map((k) => k.key),
        startDate: Date.now() / 1000,
        intended: b.target_state === 'stopped' ? 'stopped' : 'running',
        started: false,
        outbid: false,
        rebooting: false,
        destroyed: false,
        ops: Promise.resolve(),
        opsInFlight: 0,
      };
      // An on-demand rental displaces interruptible ones on the machine.
      if (!bid) pauseBids(m);
      instances.set(r.id, r);
      creates.push({ ...structuredClone(b), ask_id: askId });
      provision(r);
      return { status: 200, body: { success: true, new_contract: r.id, instance_api_key: createHash('sha256').update(`${r.id}`).digest('hex').slice(0, 32) } };
    }),

    at('GET', '/api/v0/instances/:id', async ({ params }) => {
      const r = findInstance(params.id, E.noSuchInstance);
      const [w] = await wires([r]);
      return { status: 200, body: { instances: w } };
    }),

    at('PUT', '/api/v0/instances/:id', async ({ params, body, invalidJson }) => {
      const r = findInstance(params.id, E.noSuchInstance);
      const b = bodyObject(body, invalidJson);
      if (b.state === undefined && b.label === undefined) throw E.invalidArgs('one of state or label is required');
      if (b.label !== undefined) {
        if (typeof b.label !== 'string' || b.label.length > 1024) throw E.invalidArgs('label must be a string of at most 1024 characters');
        r.label = b.label;
      }
      if (b.state !== undefined) {
        if (b.state !== 'stopped' && b.state !== 'running') throw E.invalidArgs('state must be stopped or running');
        r.intended = b.state;
        if (!r.outbid) backingOp(r, b.state === 'stopped' ? backingStop : backingStart);
      }
      return { status: 200, body: { success: true } };
    }),

    at('DELETE', '/api/v0/instances/:id', async ({ params }) => {
      const r = findInstance(params.id, E.instanceNotFound);
      destroy(r);
      return { status: 200, body: { success: true, msg: 'Instance destroyed successfully' } };
    }),

    at('PUT', '/api/v0/instances/reboot/:id', async ({ params }) => {
      const r = findInstance(params.id, E.noSuchInstance);
      const b = r.backingId ? await backing.get(r.backingId) : undefined;
      if (r.outbid || b?.status.lifecycleStatus !== 'running') throw E.invalidArgs('instance is not running');
      r.rebooting = true;
      await backing.reboot(r.backingId!);
      return { status: 200, body: { success: true } };
    }),

    at('POST', '/api/v0/instances/:id/ssh', async ({ params, body, invalidJson }) => {
      const r = findInstance(params.id, E.instanceNotFound);
      const b = bodyObject(body, invalidJson);
      if (typeof b.ssh_key !== 'string' || !PUBLIC_KEY.test(b.ssh_key.trim())) throw E.invalidArgs('ssh_key must be an OpenSSH public key');
      if (!r.keys.some((k) => keyBody(k) === keyBody(b.ssh_key as string))) r.keys.push((b.ssh_key as string).trim());
      return { status: 200, body: { success: true, msg: 'SSH key attached successfully' } };
    }),

    at('GET', '/api/v0/instances/:id/ssh', async ({ params }) => {
      const r = findInstance(params.id, E.instanceNotFound);
      return { status: 200, body: { success: true, ssh_keys: JSON.stringify(r.keys.map((k, i) => ({ id: i + 1, name: `key-${i + 1}`, public_key: k }))) } };
    }),

    at('GET', '/api/v1/instances', async ({ url }) => {
      const q = url.searchParams;
      const rawLimit = q.get('limit') === null ? 25 : Number(q.get('limit'));
      const limit = !Number.isFinite(rawLimit) || rawLimit <= 0 ? 5 : Math.min(25, Math.floor(rawLimit));
      let afterId = -1;
      const token = q.get('after_token');
      if (token) {
        try {
          const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { values?: { id?: unknown } };
          if (typeof parsed.values?.id !== 'number') throw new Error('no id');
          afterId = parsed.values.id;
        } catch {
          throw new ReplicaResponse(400, { error: 'invalid_token', msg: 'Invalid after_token' });
        }
      }
      let filters: Record<string, Record<string, unknown>> = {};
      try {
        filters = JSON.parse(q.get('select_filters') ?? '{}') as Record<string, Record<string, unknown>>;
      } catch {
        throw E.invalidRequest('Error in query parameters: select_filters must be a JSON object');
      }
      const live = [...instances.values()].filter((r) => !r.destroyed).sort((a, b) => a.id - b.id);
      const all = await wires(live);
      const matching = all.filter((w) =>
        Object.entries(filters).every(([col, ops]) => {
          if (!['id', 'label', 'actual_status', 'gpu_name', 'verification', 'machine_id', 'intended_status'].includes(col)) {
            throw E.invalidRequest(`Error in query parameters: ${col} is not a valid search key`);
          }
          return Object.entries(ops).every(([op, arg]) => compare(w[col], op, arg));
        }),
      );
      const page = matching.filter((w) => (w.id as number) > afterId).slice(0, limit);
      const more = matching.some((w) => (w.id as number) > ((page.at(-1)?.id as number | undefined) ?? Infinity));
      const labelCounts: Record<string, number> = {};
      for (const w of matching) labelCounts[(w.label as string | null) ?? ''] = (labelCounts[(w.label as string | null) ?? ''] ?? 0) + 1;
      return {
        status: 200,
        body: {
          success: true,
          instances_found: page.length,
          total_instances: matching.length,
          label_counts: labelCounts,
          next_token: more ? Buffer.from(JSON.stringify({ values: { id: page.at(-1)!.id } })).toString('base64') : null,
          instances: page,
        },
      };
    }),

    at('GET', '/api/v0/ssh', async () => ({
      status: 200,
      body: accountKeys.map((k) => ({ id: k.id, user_id: USER_ID, key: k.key, created_at: k.created_at, deleted_at: null })),
    })),

    at('POST', '/api/v0/ssh', async ({ body, invalidJson }) => {
      const b = bodyObject(body, invalidJson);
      if (b.ssh_key === undefined || b.ssh_key === '') throw e(400, 'no_ssh_key', 'No ssh key provided');
      if (typeof b.ssh_key !== 'string' || !PUBLIC_KEY.test(b.ssh_key.trim())) throw E.invalidArgs('ssh_key is not a valid OpenSSH public key');
      const k = { id: nextKey++, key: b.ssh_key.trim(), created_at: new Date().toISOString() };
      accountKeys.push(k);
      // "The key will be automatically added to all your current instances."
      for (const r of instances.values()) if (!r.destroyed && !r.keys.some((x) => keyBody(x) === keyBody(k.key))) r.keys.push(k.key);
      return { status: 200, body: { success: true, key: { id: k.id, user_id: USER_ID, public_key: k.key, created_at: k.created_at, deleted_at: null } } };
    }),

    at('DELETE', '/api/v0/ssh/:id', async ({ params }) => {
      const i = accountKeys.findIndex((k) => String(k.id) === params.id);
      if (i < 0) throw e(404, 'not_found', 'SSH key not found');
      accountKeys.splice(i, 1);
      return { status: 200, body: { success: true } };
    }),
  ];

  // --- the server -------------------------------------------------------------------------------

  function authorized(req: http.IncomingMessage, url: URL): { ok: boolean; how: string; identity: string } {
    const h = req.headers.authorization;
    const m = typeof h === 'string' ? /^Bearer\s+(\S+)$/i.exec(h) : null;
    const key = m?.[1] ?? url.searchParams.get('api_key') ?? undefined;
    const how = m ? 'bearer' : url.searchParams.has('api_key') ? 'query' : 'none';
    if (!key) return { ok: false, how, identity: '' };
    const ok = timingSafeEqual(createHash('sha256').update(key).digest(), keyDigest);
    return { ok, how, identity: createHash('sha256').update(key).digest('hex').slice(0, 16) };
  }

  /** Vast's per-endpoint, per-method, per-identity minimum interval (a token bucket with burst 1). */
  function rateLimited(identity: string, method: string, routeKey: string): ReplicaResponse | undefined {
    if (!limits) return undefined;
    const intervalMs = limits[`${method} ${routeKey}`];
    if (!intervalMs) return undefined;
    const k = `${identity} ${method} ${routeKey}`;
    let b = buckets.get(k);
    if (!b) buckets.set(k, (b = new TokenBucket(1000 / intervalMs, 1)));
    if (b.take().ok) return undefined;
    const detail = `API requests too frequent endpoint threshold=${(intervalMs / 1000).toFixed(1)}`;
    return method === 'DELETE' ? e(429, 'rate_limit_exceeded', detail) : new ReplicaResponse(429, { detail });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, rec: RequestRecord): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://replica');
    const method = (req.method ?? 'GET').toUpperCase();
    rec.path = url.pathname;
    const auth = authorized(req, url);
    rec.auth = auth.how;
    const m = matchRoute(routes, method, url.pathname);
    // Search answers a bad key with 404 "Invalid user key" (spec); everything else with 401.
    if (!auth.ok) throw E.auth(m !== 'method-not-allowed' && m && routeKeys.get(m.route) === '/api/v0/bundles' ? 404 : 401);
    if (m === 'method-not-allowed') throw new ReplicaResponse(405, { success: false, error: 'method_not_allowed', msg: `${method} is not allowed on ${url.pathname}` });
    if (!m) throw e(404, 'not_found', `no route ${url.pathname}`);
    const routeKey = routeKeys.get(m.route)!;
    const fail = takeCounted(failFaults, method, url.pathname);
    if (fail) throw E.internal(fail.status ?? 503);
    const limited = takeCounted(rateLimitFaults, method, url.pathname);
    if (limited) {
      const detail = `API requests too frequent${limited.threshold !== undefined ? ` endpoint threshold=${limited.threshold.toFixed(1)}` : ''}`;
      throw new ReplicaResponse(429, limited.text ? detail : { detail }, limited.retryAfterSeconds !== undefined ? { 'retry-after': String(limited.retryAfterSeconds) } : {});
    }
    const tooFast = rateLimited(auth.identity, method, routeKey);
    if (tooFast) throw tooFast;
    const { json, invalidJson } = await readBody(req);
    const out = await m.route.handler({ req, url, params: m.params, body: json, invalidJson });
    rec.status = out.status;
    send(res, out.status, out.body);
  }

  const { server, base, malformNext } = await serveReplica(handle, { requests, internalError: E.internal, host: opts.host, port: opts.port });

  const recOf = (id: string) => {
    const r = instances.get(Number(id));
    if (!r) throw new Error(`no replica instance ${id}`);
    return r;
  };

  const admin: VastaiReplicaAdmin = {
    setOutOfCapacity: (f) => void (capacityFaults = f.map((x) => ({ ...x }))),
    setInsufficientCredit: (on) => void (insufficientCredit = on),
    malformNext,
    rateLimitNext: (f) => void rateLimitFaults.push({ ...f }),
    failNext: (f) => void failFaults.push({ ...f }),
    setRateLimits: (l) => {
      limits = l;
      buckets.clear();
    },
    clearFaults: () => {
      capacityFaults = [];
      insufficientCredit = false;
      rateLimitFaults = [];
      failFaults = [];
    },
    outbid: (id) => {
      const r = recOf(id);
      if (!r.isBid) throw new Error(`instance ${id} is on demand: only interruptible instances are outbid`);
      r.machine.foreign = true;
      pauseBids(r.machine);
    },
    endOutbid: (id) => {
      const r = recOf(id);
      r.machine.foreign = false;
      resumeBids(r.machine);
    },
    instances: async () => {
      const all = [...instances.values()];
      const ws = await wires(all);
      return ws.map((w, i) => ({ ...w, destroyed: all[i].destroyed }));
    },
    backingId: (id) => instances.get(Number(id))?.backingId,
    instanceKeys: (id) => [...(instances.get(Number(id))?.keys ?? [])],
    accountKeys: () => accountKeys.map((k) => ({ id: k.id, key: k.key })),
    creates: () => creates.map((c) => structuredClone(c)),
    askOf: (machineId) => {
      const m = machines.find((x) => x.spec.machineId === machineId);
      return m && listed(m, false) ? m.askId : undefined;
    },
    requests: () => requests.map((r) => ({ ...r })),
  };

  return {
    url: base,
    admin,
    async close() {
      await closeServer(server);
      await Promise.allSettled([...background]);
    },
  };
}
