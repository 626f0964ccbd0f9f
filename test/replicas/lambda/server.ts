/**
 * A stateful replica of Lambda Cloud's public API v1.8.3 (shared/specs/lambda-openapi.json) on
 * 127.0.0.1, for tests. It answers the paths, methods, auth, JSON shapes, status values and error
 * bodies of the real API, enforces the documented rate limits, and backs every instance with a real
 * local cloud instance (an sshd), so a workload launched through the Lambda adapter really runs.
 *
 * Reproduced: see README.md next to this file. Deliberately not: filesystems, images, firewall
 * rulesets, clusters, audit events, running cloud-init (user_data is stored, not executed).
 *
 * Test-only extension: every instance carries `gpuflow_replica: {ssh_port, ssh_user, not_privileged}`
 * because the backing sshd listens on a random port as the local OS user (real Lambda: 22, ubuntu).
 * The adapter reads it only with `testReplica: true`.
 */
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import http from 'node:http';
import type { Instance } from '../../../src/providers/sdk/types.js';
import { generateSshKeyPair } from '../../../src/ssh/sshClient.js';
import {
  BackingCloud,
  closeServer,
  matches,
  matchRoute,
  MinInterval,
  readBody,
  ReplicaResponse,
  route,
  send,
  takeCounted,
  TokenBucket,
  type CountedFault,
  type MalformFault,
  type PlacementMatch,
  type RequestRecord,
  type Route,
  serveReplica,
} from '../shared.js';
import { DEFAULT_LAMBDA_REPLICA_CATALOG, LAMBDA_REPLICA_REGIONS, type LambdaReplicaTypeSpec } from './catalog.js';

const PREFIX = '/api/v1';

export interface LambdaReplicaRateLimits {
  /** General limit (spec: "generally limited to one request per second"). */
  requestsPerSecond: number;
  /** Token bucket size; the spec states no burst, so the default is 1. */
  burst: number;
  /** `/instance-operations/launch`: one per this many ms (spec: 12 s). */
  launchIntervalMs: number;
  /** Whether 429 answers carry Retry-After (undocumented for Lambda; default true). */
  retryAfterHeader: boolean;
}

export const LAMBDA_DOCUMENTED_RATE_LIMITS: LambdaReplicaRateLimits = { requestsPerSecond: 1, burst: 1, launchIntervalMs: 12_000, retryAfterHeader: true };

export interface LambdaReplicaOptions {
  localCloud: { url: string; token: string };
  /** The one API key the replica accepts. */
  apiKey: string;
  /** Local cloud (type, location) behind every instance; default: its first available type. */
  backing?: { type: string; location: string };
  catalog?: readonly LambdaReplicaTypeSpec[];
  /** Default: the documented limits; `false` turns rate limiting off. */
  rateLimits?: Partial<LambdaReplicaRateLimits> | false;
  /** Account quota: at most this many instances not terminated (default 50). */
  quota?: { maxInstances?: number };
  /** How long terminated instances still show in list/get (default 60 s). */
  terminatedRetentionMs?: number;
  host?: string;
  port?: number;
}

export interface LambdaCapacityFault extends PlacementMatch {
  /** Also drop the type/region from regions_with_capacity_available (default: the catalog stays stale). */
  hideFromCatalog?: boolean;
}

export interface LambdaReplicaAdmin {
  /** Launches matching any entry fail with insufficient-capacity (replaces the list). */
  setOutOfCapacity(faults: LambdaCapacityFault[]): void;
  setQuotaExceeded(on: boolean): void;
  setAccountInactive(on: boolean): void;
  /** The next `count` matching requests answer 429 (Retry-After: retryAfterSeconds, default 1). */
  /** The next matching 2xx answers are spoiled: an HTML page, truncated JSON, or JSON of the wrong types (see shared.ts). */
  malformNext(f: MalformFault): void;
  rateLimitNext(f: CountedFault & { retryAfterSeconds?: number; retryAfterHeader?: boolean }): void;
  /** The next `count` matching requests answer a 5xx (default 503 provider/internal-unavailable). */
  failNext(f: CountedFault & { status?: 500 | 502 | 503; retryAfterSeconds?: number }): void;
  setRateLimits(r: Partial<LambdaReplicaRateLimits> | false): void;
  clearFaults(): void;
  /** Every instance the replica knows (terminated ones too, until retention ends), as the API shows them. */
  instances(): Promise<Record<string, unknown>[]>;
  /** Backing local cloud instance ID of a replica instance. */
  backingId(id: string): string | undefined;
  sshKeys(): { id: string; name: string; public_key: string }[];
  /** Accepted launch bodies, in order. */
  launches(): Record<string, unknown>[];
  requests(): RequestRecord[];
}

export interface LambdaReplicaHandle {
  url: string;
  admin: LambdaReplicaAdmin;
  close(): Promise<void>;
}

interface InstanceRecord {
  id: string;
  name?: string;
  hostname?: string;
  type: LambdaReplicaTypeSpec;
  region: string;
  sshKeyName: string;
  tags: { key: string; value: string }[];
  userData?: string;
  createdAt: number;
  backingId: string;
  everActive: boolean;
  ip?: string;
  terminateRequestedAt?: number;
  terminating?: Promise<void> | undefined;
  terminatedAt?: number;
}

const hex32 = () => randomBytes(16).toString('hex');
const err = (code: string, message: string, suggestion?: string) => ({ error: { code, message, ...(suggestion ? { suggestion } : {}) } });

const E = {
  unauthorized: () => new ReplicaResponse(401, err('global/invalid-api-key', 'API key was invalid, expired, or deleted.', 'Check your API key or create a new one, then try again.')),
  inactive: () =>
    new ReplicaResponse(403, err('global/account-inactive', 'Your account is inactive.', 'Make sure you have verified your email address and have a valid payment method. Contact Support if problems continue.')),
  invalid: (message: string) => new ReplicaResponse(400, err('global/invalid-parameters', message)),
  instanceNotFound: () => new ReplicaResponse(404, err('global/object-does-not-exist', 'Specified instance does not exist.')),
  launchNotFound: (message: string) => new ReplicaResponse(404, err('global/object-does-not-exist', message, 'Check the name and try again.')),
  capacity: () => new ReplicaResponse(400, err('instance-operations/launch/insufficient-capacity', 'Not enough capacity to fulfill launch request.')),
  quota: () => new ReplicaResponse(400, err('global/quota-exceeded', 'Quota exceeded.', 'Contact Support to increase your quota.')),
  internal: () => new ReplicaResponse(500, err('global/internal-error', 'An internal server error occurred.', 'Try again later. Contact Support if the problem persists.')),
};

const TAG_KEY = /^[a-z][a-z0-9-:]+$/;
const HOSTNAME = /^[a-z0-9][0-9a-z-]{0,62}$/;
const PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$/;

export async function startLambdaReplica(opts: LambdaReplicaOptions): Promise<LambdaReplicaHandle> {
  const backing = new BackingCloud(opts.localCloud, opts.backing, 'lambda');
  const catalog = new Map((opts.catalog ?? DEFAULT_LAMBDA_REPLICA_CATALOG).map((t) => [t.name, structuredClone(t)]));
  const retentionMs = opts.terminatedRetentionMs ?? 60_000;
  const maxInstances = opts.quota?.maxInstances ?? 50;
  const keyDigest = createHash('sha256').update(opts.apiKey).digest();

  const instances = new Map<string, InstanceRecord>();
  const sshKeys: { id: string; name: string; public_key: string }[] = [];
  const launches: Record<string, unknown>[] = [];
  const requests: RequestRecord[] = [];
  const background = new Set<Promise<unknown>>();

  let limits: LambdaReplicaRateLimits | false = LAMBDA_DOCUMENTED_RATE_LIMITS;
  let general: TokenBucket | undefined;
  let launchGate: MinInterval | undefined;
  const setLimits = (r: Partial<LambdaReplicaRateLimits> | false | undefined) => {
    limits = r === false ? false : { ...LAMBDA_DOCUMENTED_RATE_LIMITS, ...(r ?? {}) };
    general = limits ? new TokenBucket(limits.requestsPerSecond, limits.burst) : undefined;
    launchGate = limits ? new MinInterval(limits.launchIntervalMs) : undefined;
  };
  setLimits(opts.rateLimits);

  let outOfCapacity: LambdaCapacityFault[] = [];
  let quotaExceeded = false;
  let accountInactive = false;
  let rateLimitFaults: (CountedFault & { retryAfterSeconds?: number; retryAfterHeader?: boolean })[] = [];
  let failFaults: (CountedFault & { status?: 500 | 502 | 503; retryAfterSeconds?: number })[] = [];

  // --- state ------------------------------------------------------------------------------------

  const live = (r: InstanceRecord) => r.terminateRequestedAt === undefined;
  const visible = (r: InstanceRecord, now = Date.now()) => r.terminatedAt === undefined || now - r.terminatedAt <= retentionMs;
  const used = (type: string, region: string) => [...instances.values()].filter((r) => live(r) && r.type.name === type && r.region === region).length;
  const hasCapacity = (t: LambdaReplicaTypeSpec, region: string) => used(t.name, region) < (t.capacity[region] ?? 0);

  const regionOf = (name: string) => ({ name, description: LAMBDA_REPLICA_REGIONS[name] ?? name });
  const typeWire = (t: LambdaReplicaTypeSpec) => ({
    name: t.name,
    description: t.description,
    gpu_description: t.gpuDescription,
    price_cents_per_hour: t.priceCentsPerHour,
    specs: { ...t.specs },
  });

  /** Lambda status of a record, from its backing local instance. */
  function statusOf(r: InstanceRecord, b: Instance | undefined): string {
    if (r.terminatedAt !== undefined) return 'terminated';
    if (r.terminateRequestedAt !== undefined) {
      if (!r.terminating && (!b || b.status.lifecycleStatus === 'terminated')) {
        r.terminatedAt = Date.now();
        return 'terminated';
      }
      return 'terminating';
    }
    if (!b) return 'terminated';
    switch (b.status.lifecycleStatus) {
      case 'pending':
        return 'booting';
      case 'running':
        r.everActive = true;
        r.ip ??= b.publicIp;
        return 'active';
      case 'terminating':
      case 'terminated':
        if (b.status.interruption === 'preempted') return 'preempted';
        r.terminatedAt ??= Date.now();
        return 'terminated';
      default:
        return 'unhealthy';
    }
  }

  function action(available: boolean, reason?: 'vm-has-not-launched' | 'vm-is-too-old' | 'vm-is-terminating') {
    if (available) return { available: true };
    const descriptions = {
      'vm-has-not-launched': 'The instance has not launched yet.',
      'vm-is-too-old': 'The instance is too old for this operation.',
      'vm-is-terminating': 'The instance is terminating.',
    } as const;
    return { available: false, ...(reason ? { reason_code: reason, reason_description: descriptions[reason] } : {}) };
  }

  function wire(r: InstanceRecord, b: Instance | undefined, statusOverride?: string): Record<string, unknown> {
    const status = statusOverride ?? statusOf(r, b);
    const ended = status === 'terminated' || status === 'terminating' || status === 'preempted';
    const restart = status === 'active' ? action(true) : action(false, ended ? 'vm-is-terminating' : 'vm-has-not-launched');
    const running = b?.status.lifecycleStatus === 'running' && !ended;
    const ip = r.ip;
    return {
      id: r.id,
      ...(r.name !== undefined ? { name: r.name } : {}),
      ...(ip ? { ip, private_ip: ip } : {}),
      status,
      ssh_key_names: [r.sshKeyName],
      file_system_names: [],
      region: regionOf(r.region),
      instance_type: typeWire(r.type),
      ...(r.hostname ? { hostname: r.hostname } : ip ? { hostname: ip.replace(/\./g, '-') } : {}),
      actions: {
        migrate: action(false, ended ? 'vm-is-terminating' : 'vm-is-too-old'),
        rebuild: action(false, ended ? 'vm-is-terminating' : 'vm-is-too-old'),
        restart,
        cold_reboot: restart,
        terminate: ended ? action(false, 'vm-is-terminating') : action(true),
      },
      tags: r.tags.map((t) => ({ ...t })),
      firewall_rulesets: [],
      gpuflow_replica: {
        ...(running && b?.sshPort ? { ssh_port: b.sshPort } : {}),
        ...(b?.sshUser ? { ssh_user: b.sshUser } : {}),
        not_privileged: true,
      },
    };
  }

  async function wires(recs: InstanceRecord[]): Promise<Record<string, unknown>[]> {
    const pending = recs.filter((r) => r.terminatedAt === undefined);
    const bs = await backing.getMany(pending.map((r) => r.backingId));
    return recs.map((r) => wire(r, bs.get(r.backingId)));
  }

  function find(id: string): InstanceRecord {
    const r = instances.get(id);
    if (!r || !visible(r)) throw E.instanceNotFound();
    return r;
  }

  function idsFrom(body: unknown): string[] {
    const ids = (body as { instance_ids?: unknown } | undefined)?.instance_ids;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((x) => typeof x === 'string')) throw E.invalid('instance_ids must be a non-empty list of instance IDs.');
    return ids as string[];
  }

  function terminate(r: InstanceRecord): void {
    if (r.terminateRequestedAt !== undefined) return;
    r.terminateRequestedAt = Date.now();
    const p = backing
      .terminate(r.backingId)
      .catch(() => undefined)
      .finally(() => {
        r.terminating = undefined;
        background.delete(p);
      });
    r.terminating = p;
    background.add(p);
  }

  // --- routes -----------------------------------------------------------------------------------

  const routes: Route[] = [
    route('GET', '/instance-types', async () => {
      const hidden = (t: string, region: string) => outOfCapacity.some((f) => f.hideFromCatalog && matches(f, t, region));
      const data: Record<string, unknown> = {};
      for (const t of catalog.values()) {
        data[t.name] = {
          instance_type: typeWire(t),
          regions_with_capacity_available: Object.keys(t.capacity)
            .filter((region) => hasCapacity(t, region) && !hidden(t.name, region))
            .map(regionOf),
        };
      }
      return { status: 200, body: { data } };
    }),

    route('POST', '/instance-operations/launch', async ({ body, invalidJson }) => {
      if (invalidJson || typeof body !== 'object' || body === null || Array.isArray(body)) throw E.invalid('Invalid request data.');
      const b = body as Record<string, unknown>;
      if ('quantity' in b) throw E.invalid('Requested too many instances.');
      const region = b.region_name;
      if (typeof region !== 'string' || !(region in LAMBDA_REPLICA_REGIONS)) throw E.invalid(`Region ${JSON.stringify(region)} does not exist.`);
      const t = typeof b.instance_type_name === 'string' ? catalog.get(b.instance_type_name) : undefined;
      if (!t) throw E.launchNotFound(`Instance type ${JSON.stringify(b.instance_type_name)} does not exist.`);
      const keys = b.ssh_key_names;
      if (!Array.isArray(keys) || keys.length !== 1 || typeof keys[0] !== 'string') throw E.invalid('Exactly one SSH key name must be specified.');
      const key = sshKeys.find((k) => k.name === keys[0]);
      if (!key) throw E.launchNotFound(`SSH key ${JSON.stringify(keys[0])} does not exist.`);
      if (b.name !== undefined && (typeof b.name !== 'string' || b.name.length > 64)) throw E.invalid('name must be a string of at most 64 characters.');
      if (b.hostname !== undefined && (typeof b.hostname !== 'string' || !HOSTNAME.test(b.hostname))) throw E.invalid('hostname is invalid.');
      const fs = b.file_system_names;
      if (fs !== undefined && (!Array.isArray(fs) || fs.length > 0)) throw E.launchNotFound(`File system ${JSON.stringify(Array.isArray(fs) ? fs[0] : fs)} does not exist.`);
      if (b.user_data !== undefined && (typeof b.user_data !== 'string' || Buffer.byteLength(b.user_data) > 1_000_000)) throw E.invalid('user_data must be plain text of at most 1 MB.');
      const tags = b.tags ?? [];
      if (!Array.isArray(tags)) throw E.invalid('tags must be a list of {key, value}.');
      for (const tag of tags as { key?: unknown; value?: unknown }[]) {
        if (typeof tag?.key !== 'string' || !TAG_KEY.test(tag.key) || tag.key.length > 55) throw E.invalid(`Tag key ${JSON.stringify(tag?.key)} is invalid.`);
        if (typeof tag.value !== 'string' || tag.value.length > 128) throw E.invalid(`Tag ${tag.key} has an invalid value.`);
      }
      if (quotaExceeded || [...instances.values()].filter(live).length >= maxInstances) throw E.quota();
      if (!hasCapacity(t, region) || outOfCapacity.some((f) => matches(f, t.name, region))) throw E.capacity();

      const id = hex32();
      let inst: Instance;
      try {
        inst = await backing.create(id, typeof b.name === 'string' ? b.name : id, key.public_key);
      } catch {
        throw E.internal();
      }
      instances.set(id, {
        id,
        ...(typeof b.name === 'string' ? { name: b.name } : {}),
        ...(typeof b.hostname === 'string' ? { hostname: b.hostname } : {}),
        type: t,
        region,
        sshKeyName: key.name,
        tags: (tags as { key: string; value: string }[]).map((x) => ({ key: x.key, value: x.value })),
        ...(typeof b.user_data === 'string' ? { userData: b.user_data } : {}),
        createdAt: Date.now(),
        backingId: inst.cloudId,
        everActive: false,
      });
      launches.push(structuredClone(b));
      return { status: 200, body: { data: { instance_ids: [id] } } };
    }),

    route('GET', '/instances', async ({ url }) => {
      const cluster = url.searchParams.get('cluster_id');
      const recs = cluster ? [] : [...instances.values()].filter((r) => visible(r)).sort((a, b) => a.createdAt - b.createdAt);
      return { status: 200, body: { data: await wires(recs) } };
    }),

    route('GET', '/instances/:id', async ({ params }) => {
      const r = find(params.id);
      return { status: 200, body: { data: (await wires([r]))[0] } };
    }),

    route('POST', '/instances/:id', async ({ params, body }) => {
      const r = find(params.id);
      const name = (body as { name?: unknown } | undefined)?.name;
      if (name !== undefined && (typeof name !== 'string' || name.length > 64)) throw E.invalid('name must be a string of at most 64 characters.');
      if (typeof name === 'string') r.name = name;
      return { status: 200, body: { data: (await wires([r]))[0] } };
    }),

    route('POST', '/instance-operations/terminate', async ({ body }) => {
      const recs = idsFrom(body).map(find);
      for (const r of recs) terminate(r);
      const bs = await backing.getMany(recs.filter((r) => r.terminatedAt === undefined).map((r) => r.backingId));
      return {
        status: 200,
        body: { data: { terminated_instances: recs.map((r) => wire(r, bs.get(r.backingId), r.terminatedAt !== undefined ? 'terminated' : 'terminating')) } },
      };
    }),

    route('POST', '/instance-operations/restart', async ({ body }) => {
      const recs = idsFrom(body).map(find);
      const bs = await backing.getMany(recs.map((r) => r.backingId));
      for (const r of recs) {
        if (r.terminateRequestedAt === undefined && bs.get(r.backingId)?.status.lifecycleStatus === 'running') await backing.reboot(r.backingId);
      }
      return { status: 200, body: { data: { restarted_instances: await wires(recs) } } };
    }),

    route('GET', '/ssh-keys', async () => ({ status: 200, body: { data: sshKeys.map((k) => ({ ...k })) } })),

    route('POST', '/ssh-keys', async ({ body, invalidJson }) => {
      if (invalidJson || typeof body !== 'object' || body === null) throw E.invalid('Invalid request data.');
      const { name, public_key } = body as { name?: unknown; public_key?: unknown };
      if (typeof name !== 'string' || name.length < 1 || name.length > 64) throw E.invalid('name must be 1 to 64 characters.');
      if (sshKeys.some((k) => k.name === name)) throw E.invalid('SSH key name must be unique.');
      if (public_key !== undefined) {
        if (typeof public_key !== 'string' || public_key.length > 4096 || !PUBLIC_KEY.test(public_key.trim())) throw E.invalid('Invalid public key.');
        const k = { id: hex32(), name, public_key: public_key.trim() };
        sshKeys.push(k);
        return { status: 200, body: { data: { ...k } } };
      }
      const pair = generateSshKeyPair(name);
      const k = { id: hex32(), name, public_key: pair.publicKey };
      sshKeys.push(k);
      return { status: 200, body: { data: { ...k, private_key: pair.privateKey } } };
    }),

    route('DELETE', '/ssh-keys/:id', async ({ params }) => {
      const i = sshKeys.findIndex((k) => k.id === params.id);
      if (i < 0) throw E.invalid('SSH key does not exist.');
      if ([...instances.values()].some((r) => live(r) && r.sshKeyName === sshKeys[i].name)) throw E.invalid('SSH key is in use by an instance.');
      sshKeys.splice(i, 1);
      return { status: 200, body: { data: {} } };
    }),
  ];

  // --- the server -------------------------------------------------------------------------------

  function authOf(header: string | undefined): { scheme: string; ok: boolean } {
    const h = header ?? '';
    let key: string | undefined;
    let scheme = 'none';
    const bearer = /^Bearer\s+(.+)$/i.exec(h);
    const basic = /^Basic\s+(.+)$/i.exec(h);
    if (bearer) {
      scheme = 'bearer';
      key = bearer[1].trim();
    } else if (basic) {
      scheme = 'basic';
      const decoded = Buffer.from(basic[1].trim(), 'base64').toString('utf8');
      key = decoded.endsWith(':') ? decoded.slice(0, -1) : decoded.split(':')[0];
    }
    const ok = key !== undefined && timingSafeEqual(createHash('sha256').update(key).digest(), keyDigest);
    return { scheme, ok };
  }

  function tooMany(seconds: number, header: boolean): ReplicaResponse {
    // Lambda does not document its 429 body; this wording is what brevdev/cloud retries on.
    return new ReplicaResponse(429, `429 Too Many Requests: we have banned you temporarily. Retry in ${seconds} s.`, header ? { 'retry-after': String(seconds) } : {});
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, rec: RequestRecord): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://replica');
    const method = (req.method ?? 'GET').toUpperCase();
    if (!url.pathname.startsWith(`${PREFIX}/`)) throw new ReplicaResponse(404, err('global/object-does-not-exist', 'Not found.'));
    const path = url.pathname.slice(PREFIX.length);
    rec.path = url.pathname;
    const auth = authOf(req.headers.authorization);
    rec.auth = auth.scheme;
    if (!auth.ok) throw E.unauthorized();
    if (accountInactive) throw E.inactive();
    const fail = takeCounted(failFaults, method, path);
    if (fail) {
      const status = fail.status ?? 503;
      const body = status === 500 ? E.internal().body : err('provider/internal-unavailable', 'Provider unavailable', 'Try again shortly');
      throw new ReplicaResponse(status, body, fail.retryAfterSeconds !== undefined ? { 'retry-after': String(fail.retryAfterSeconds) } : {});
    }
    const limited = takeCounted(rateLimitFaults, method, path);
    if (limited) throw tooMany(limited.retryAfterSeconds ?? 1, limited.retryAfterHeader ?? true);
    if (limits && general) {
      const g = general.take();
      if (!g.ok) throw tooMany(Math.max(1, Math.ceil(g.waitMs / 1000)), limits.retryAfterHeader);
      if (method === 'POST' && path === '/instance-operations/launch' && launchGate) {
        const l = launchGate.take();
        if (!l.ok) throw tooMany(Math.max(1, Math.ceil(l.waitMs / 1000)), limits.retryAfterHeader);
      }
    }
    const m = matchRoute(routes, method, path);
    if (m === 'method-not-allowed') throw new ReplicaResponse(405, err('global/invalid-parameters', `${method} is not allowed on ${url.pathname}.`));
    if (!m) throw new ReplicaResponse(404, err('global/object-does-not-exist', 'Not found.'));
    const { json, invalidJson } = await readBody(req);
    const out = await m.route.handler({ req, url, params: m.params, body: json, invalidJson });
    rec.status = out.status;
    send(res, out.status, out.body);
  }

  const { server, base, malformNext } = await serveReplica(handle, { requests, internalError: E.internal, host: opts.host, port: opts.port });

  const admin: LambdaReplicaAdmin = {
    setOutOfCapacity: (f) => void (outOfCapacity = f.map((x) => ({ ...x }))),
    setQuotaExceeded: (on) => void (quotaExceeded = on),
    setAccountInactive: (on) => void (accountInactive = on),
    malformNext,
    rateLimitNext: (f) => void rateLimitFaults.push({ ...f }),
    failNext: (f) => void failFaults.push({ ...f }),
    setRateLimits: (r) => setLimits(r),
    clearFaults: () => {
      outOfCapacity = [];
      quotaExceeded = false;
      accountInactive = false;
      rateLimitFaults = [];
      failFaults = [];
    },
    instances: async () => wires([...instances.values()].filter((r) => visible(r))),
    backingId: (id) => instances.get(id)?.backingId,
    sshKeys: () => sshKeys.map((k) => ({ ...k })),
    launches: () => launches.map((l) => structuredClone(l)),
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
