/**
 * A stateful replica of Shadeform's API v1 (shared/specs/shadeform-openapi.yaml) on 127.0.0.1, for
 * tests: the paths, methods, `X-API-KEY` auth, JSON shapes and status values of the real API, its
 * asynchronous create (`creating` → `pending_provider` → `pending` → `active`), and instances backed
 * by real local cloud instances (sshd), whose port and user are reported in `ssh_port`/`ssh_user`
 * (real fields: "in most cases port 22 but for some clouds a different port").
 *
 * Errors: Shadeform's spec documents none. `409 {"error_code":"OUT_OF_STOCK","error":...}` is known
 * (brevdev/cloud); the other codes below keep that shape but are this replica's guesses
 * (UNAUTHORIZED 401, NOT_FOUND 404, INVALID_REQUEST 400, CONFLICT 409, QUOTA_EXCEEDED 409,
 * RATE_LIMITED 429, INTERNAL_ERROR 500, SERVICE_UNAVAILABLE 503). Shadeform documents no rate
 * limits, so none are enforced; 429s come only from `admin.rateLimitNext`.
 *
 * Test-only extension: instances carry `gpuflow_replica: {not_privileged: true}` (shared host).
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { Instance } from '../../../src/providers/sdk/types.js';
import {
  BackingCloud,
  closeServer,
  matches,
  matchRoute,
  readBody,
  ReplicaResponse,
  route,
  send,
  takeCounted,
  type CountedFault,
  type MalformFault,
  type PlacementMatch,
  type RequestRecord,
  type Route,
  serveReplica,
} from '../shared.js';
import { DEFAULT_SHADEFORM_REPLICA_CATALOG, type ShadeformReplicaTypeSpec } from './catalog.js';

const PREFIX = '/v1';
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

export interface ShadeformReplicaOptions {
  localCloud: { url: string; token: string };
  apiKey: string;
  backing?: { type: string; location: string };
  catalog?: readonly ShadeformReplicaTypeSpec[];
  /** At most this many instances not deleted (default 50). */
  quota?: { maxInstances?: number };
  host?: string;
  port?: number;
}

export interface ShadeformStockFault extends PlacementMatch {
  /** `type` is the shade_instance_type; `cloud` narrows further. */
  cloud?: string;
  /** Also report the offer unavailable in `/instances/types` (default: the catalog stays stale). */
  hideFromCatalog?: boolean;
}

export interface ShadeformReplicaAdmin {
  setOutOfStock(faults: ShadeformStockFault[]): void;
  setQuotaExceeded(on: boolean): void;
  /** The next matching 2xx answers are spoiled: an HTML page, truncated JSON, or JSON of the wrong types (see shared.ts). */
  malformNext(f: MalformFault): void;
  rateLimitNext(f: CountedFault & { retryAfterSeconds?: number; retryAfterHeader?: boolean }): void;
  failNext(f: CountedFault & { status?: 500 | 502 | 503; retryAfterSeconds?: number }): void;
  /** The next `count` creates are accepted but end in status `error` (the provider failed to deliver). */
  failNextProvisioning(count: number, details?: string): void;
  clearFaults(): void;
  /** Every instance, deleted ones included, as `/instances/{id}/info` shows them. */
  instances(): Promise<Record<string, unknown>[]>;
  backingId(id: string): string | undefined;
  sshKeys(): { id: string; name: string; public_key: string; is_default: boolean }[];
  /** Accepted create bodies, in order. */
  creates(): Record<string, unknown>[];
  requests(): RequestRecord[];
}

export interface ShadeformReplicaHandle {
  /** Base URL including `/v1`, as the adapter's baseUrl. */
  url: string;
  admin: ShadeformReplicaAdmin;
  close(): Promise<void>;
}

interface Rec {
  id: string;
  name: string;
  type: ShadeformReplicaTypeSpec;
  region: string;
  os: string;
  sshKeyId: string;
  tags: string[];
  envs: { name: string; value: string }[];
  launchConfiguration?: unknown;
  createdAt: string;
  phase: 'creating' | 'pending_provider' | 'provisioned' | 'error';
  statusDetails?: string;
  backingId?: string;
  activeAt?: number;
  lastPort?: number;
  ip?: string;
  restarting: boolean;
  deleteRequested: boolean;
  deleting?: Promise<void> | undefined;
  deletedAt?: string;
}

const e = (status: number, error_code: string, error: string, headers: Record<string, string> = {}) => new ReplicaResponse(status, { error_code, error }, headers);
const E = {
  unauthorized: () => e(401, 'UNAUTHORIZED', 'Invalid API key'),
  notFound: (what: string) => e(404, 'NOT_FOUND', `${what} not found`),
  invalid: (msg: string) => e(400, 'INVALID_REQUEST', msg),
  conflict: (msg: string) => e(409, 'CONFLICT', msg),
  outOfStock: (cloud: string, type: string, region: string) => e(409, 'OUT_OF_STOCK', `${cloud} ${type} is out of stock in ${region}`),
  quota: () => e(409, 'QUOTA_EXCEEDED', 'instance quota exceeded for this account'),
  internal: () => e(500, 'INTERNAL_ERROR', 'internal server error'),
};

const PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$/;

export async function startShadeformReplica(opts: ShadeformReplicaOptions): Promise<ShadeformReplicaHandle> {
  const backing = new BackingCloud(opts.localCloud, opts.backing, 'shadeform');
  const catalog = (opts.catalog ?? DEFAULT_SHADEFORM_REPLICA_CATALOG).map((t) => structuredClone(t));
  const maxInstances = opts.quota?.maxInstances ?? 50;
  const keyDigest = createHash('sha256').update(opts.apiKey).digest();

  const instances = new Map<string, Rec>();
  const sshKeys: { id: string; name: string; public_key: string; is_default: boolean }[] = [];
  const creates: Record<string, unknown>[] = [];
  const requests: RequestRecord[] = [];
  const background = new Set<Promise<unknown>>();

  let outOfStock: ShadeformStockFault[] = [];
  let quotaExceeded = false;
  let rateLimitFaults: (CountedFault & { retryAfterSeconds?: number; retryAfterHeader?: boolean })[] = [];
  let failFaults: (CountedFault & { status?: 500 | 502 | 503; retryAfterSeconds?: number })[] = [];
  let provisioningFailures: { count: number; details: string } = { count: 0, details: '' };

  const track = <T>(p: Promise<T>): Promise<T> => {
    background.add(p);
    void p.finally(() => background.delete(p)).catch(() => undefined);
    return p;
  };

  // --- state ------------------------------------------------------------------------------------

  const live = (r: Rec) => !r.deleteRequested && r.phase !== 'error';
  const used = (t: ShadeformReplicaTypeSpec, region: string) => [...instances.values()].filter((r) => live(r) && r.type === t && r.region === region).length;
  const capacityOf = (t: ShadeformReplicaTypeSpec, region: string) => t.regions.find((x) => x.region === region)?.capacity ?? 0;
  const stockFault = (t: ShadeformReplicaTypeSpec, region: string, hiddenOnly: boolean) =>
    outOfStock.some((f) => (!hiddenOnly || f.hideFromCatalog) && (!f.cloud || f.cloud === t.cloud) && matches(f, t.shadeInstanceType, region));
  const available = (t: ShadeformReplicaTypeSpec, region: string) => used(t, region) < capacityOf(t, region) && !stockFault(t, region, true);

  function typeWire(t: ShadeformReplicaTypeSpec, regionFilter?: string) {
    return {
      cloud: t.cloud,
      shade_instance_type: t.shadeInstanceType,
      cloud_instance_type: t.cloudInstanceType,
      configuration: structuredClone(t.configuration),
      hourly_price: t.hourlyPrice,
      deployment_type: t.deploymentType,
      availability: t.regions
        .filter((r) => !regionFilter || r.region === regionFilter)
        .map((r) => ({ region: r.region, available: available(t, r.region), display_name: r.displayName })),
      ...(t.bootTime ? { boot_time: { ...t.bootTime } } : {}),
    };
  }

  function statusOf(r: Rec, b: Instance | undefined): { status: string; details: string } {
    if (r.deletedAt) return { status: 'deleted', details: 'deleted' };
    if (r.deleteRequested) {
      if (!r.deleting && (!r.backingId || !b || b.status.lifecycleStatus === 'terminated')) {
        r.deletedAt = new Date().toISOString();
        return { status: 'deleted', details: 'deleted' };
      }
      return { status: 'deleting', details: 'deleting' };
    }
    if (r.phase === 'error') return { status: 'error', details: r.statusDetails ?? 'provisioning failed' };
    if (r.phase !== 'provisioned') return { status: r.phase, details: r.phase === 'creating' ? 'queued' : 'waiting for the provider' };
    if (!b) return { status: 'error', details: 'the provider lost the machine' };
    switch (b.status.lifecycleStatus) {
      case 'pending':
        return r.restarting ? { status: 'active', details: 'restarting' } : { status: 'pending', details: 'booting' };
      case 'running':
        r.restarting = false;
        r.activeAt ??= Date.now();
        r.lastPort = b.sshPort;
        r.ip ??= b.publicIp;
        return { status: 'active', details: 'running' };
      default:
        return { status: 'error', details: `the machine is ${b.status.lifecycleStatus}` };
    }
  }

  function costEstimate(r: Rec): string {
    if (!r.activeAt) return '0.00';
    const end = r.deletedAt ? Date.parse(r.deletedAt) : Date.now();
    const cents = Math.floor((r.type.hourlyPrice * Math.max(0, end - r.activeAt)) / 3_600_000);
    return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
  }

  function wire(r: Rec, b: Instance | undefined, info: boolean): Record<string, unknown> {
    const { status, details } = statusOf(r, b);
    const c = r.type.configuration;
    const port = b?.status.lifecycleStatus === 'running' ? b.sshPort : r.lastPort;
    return {
      id: r.id,
      cloud: r.type.cloud,
      region: r.region,
      shade_instance_type: r.type.shadeInstanceType,
      cloud_instance_type: r.type.cloudInstanceType,
      cloud_assigned_id: r.backingId ?? '',
      shade_cloud: true,
      name: r.name,
      configuration: {
        memory_in_gb: c.memory_in_gb,
        storage_in_gb: c.storage_in_gb,
        vcpus: c.vcpus,
        num_gpus: c.num_gpus,
        gpu_type: c.gpu_type,
        interconnect: c.interconnect,
        nvlink: c.nvlink,
        vram_per_gpu_in_gb: c.vram_per_gpu_in_gb,
        gpu_manufacturer: c.gpu_manufacturer,
        os: r.os,
      },
      ip: r.ip ?? '',
      ssh_user: b?.sshUser || 'shadeform',
      ssh_port: port || 22,
      status,
      status_details: details,
      cost_estimate: costEstimate(r),
      hourly_price: r.type.hourlyPrice,
      ...(r.launchConfiguration !== undefined ? { launch_configuration: structuredClone(r.launchConfiguration) } : {}),
      tags: [...r.tags],
      port_mappings: [],
      ...(r.activeAt ? { active_at: new Date(r.activeAt).toISOString() } : {}),
      created_at: r.createdAt,
      deleted_at: r.deletedAt ?? GO_ZERO_TIME,
      ...(r.type.bootTime ? { boot_time: { ...r.type.bootTime } } : {}),
      ...(info ? { ssh_key_id: r.sshKeyId, envs: r.envs.map((x) => ({ ...x })), volume_ids: [] } : {}),
      gpuflow_replica: { not_privileged: true },
    };
  }

  async function wires(recs: Rec[], info: boolean): Promise<Record<string, unknown>[]> {
    const bs = await backing.getMany(recs.filter((r) => r.backingId && !r.deletedAt).map((r) => r.backingId!));
    return recs.map((r) => wire(r, r.backingId ? bs.get(r.backingId) : undefined, info));
  }

  function findLive(id: string): Rec {
    const r = instances.get(id);
    if (!r || r.deletedAt) throw E.notFound('instance');
    return r;
  }

  function provision(r: Rec, publicKey: string): void {
    const fail = provisioningFailures.count > 0 ? provisioningFailures : undefined;
    if (fail) fail.count -= 1;
    void track(
      (async () => {
        await new Promise((res) => setTimeout(res, 50));
        r.phase = 'pending_provider';
        if (fail) {
          r.phase = 'error';
          r.statusDetails = fail.details || 'the provider could not deliver the instance';
          return;
        }
        try {
          const inst = await backing.create(r.id, r.name, publicKey);
          r.backingId = inst.cloudId;
          r.phase = 'provisioned';
          if (r.deleteRequested) startDelete(r);
        } catch (err) {
          r.phase = 'error';
          r.statusDetails = `provisioning failed: ${(err as Error).message}`;
        }
      })(),
    );
  }

  function startDelete(r: Rec): void {
    r.deleteRequested = true;
    if (!r.backingId || r.deleting) return;
    const id = r.backingId;
    r.deleting = track(backing.terminate(id).catch(() => undefined)).finally(() => {
      r.deleting = undefined;
    });
  }

  function bodyObject(body: unknown, invalidJson: boolean): Record<string, unknown> {
    if (invalidJson || typeof body !== 'object' || body === null || Array.isArray(body)) throw E.invalid('request body must be a JSON object');
    return body as Record<string, unknown>;
  }

  // --- routes -----------------------------------------------------------------------------------

  const routes: Route[] = [
    route('GET', '/instances/types', async ({ url }) => {
      const q = url.searchParams;
      const region = q.get('region') ?? undefined;
      let types = catalog
        .filter((t) => !q.get('cloud') || t.cloud === q.get('cloud'))
        .filter((t) => !q.get('num_gpus') || t.configuration.num_gpus === Number(q.get('num_gpus')))
        .filter((t) => !q.get('gpu_type') || t.configuration.gpu_type === q.get('gpu_type'))
        .filter((t) => !q.get('shade_instance_type') || t.shadeInstanceType === q.get('shade_instance_type'))
        .map((t) => typeWire(t, region))
        .filter((t) => t.availability.length > 0);
      const av = q.get('available');
      if (av === 'true' || av === 'false') {
        types = types.map((t) => ({ ...t, availability: t.availability.filter((a) => a.available === (av === 'true')) })).filter((t) => t.availability.length > 0);
      }
      if (q.get('sort') === 'price') types.sort((a, b) => a.hourly_price - b.hourly_price);
      return { status: 200, body: { instance_types: types } };
    }),

    route('POST', '/instances/create', async ({ body, invalidJson }) => {
      const b = bodyObject(body, invalidJson);
      for (const f of ['cloud', 'region', 'shade_instance_type', 'name'] as const) {
        if (typeof b[f] !== 'string' || !(b[f] as string)) throw E.invalid(`${f} is required`);
      }
      if (b.shade_cloud !== true) throw E.invalid('shade_cloud must be true: this account has no linked cloud accounts');
      const t = catalog.find((x) => x.cloud === b.cloud && x.shadeInstanceType === b.shade_instance_type);
      if (!t) throw E.invalid(`unknown shade_instance_type ${JSON.stringify(b.shade_instance_type)} for cloud ${JSON.stringify(b.cloud)}`);
      const region = b.region as string;
      if (b.tags !== undefined && (!Array.isArray(b.tags) || !b.tags.every((x) => typeof x === 'string'))) throw E.invalid('tags must be a list of strings');
      if (b.envs !== undefined && (!Array.isArray(b.envs) || !b.envs.every((x) => typeof x?.name === 'string' && typeof x?.value === 'string'))) throw E.invalid('envs must be a list of {name, value}');
      if (b.os !== undefined && (typeof b.os !== 'string' || !t.configuration.os_options.includes(b.os))) throw E.invalid(`os ${JSON.stringify(b.os)} is not offered for this instance type`);
      const key = b.ssh_key_id === undefined ? sshKeys.find((k) => k.is_default) : sshKeys.find((k) => k.id === b.ssh_key_id);
      if (!key) throw E.invalid(b.ssh_key_id === undefined ? 'no ssh_key_id given and the account has no default SSH key' : `ssh key ${JSON.stringify(b.ssh_key_id)} not found`);
      if (quotaExceeded || [...instances.values()].filter(live).length >= maxInstances) throw E.quota();
      // Brev: a region that does not offer the type is OUT_OF_STOCK too.
      if (used(t, region) >= capacityOf(t, region) || stockFault(t, region, false)) throw E.outOfStock(t.cloud, t.shadeInstanceType, region);
      const id = randomUUID();
      const rec: Rec = {
        id,
        name: b.name as string,
        type: t,
        region,
        os: (b.os as string | undefined) ?? t.configuration.os_options[0] ?? '',
        sshKeyId: key.id,
        tags: [...((b.tags as string[] | undefined) ?? [])],
        envs: ((b.envs as { name: string; value: string }[] | undefined) ?? []).map((x) => ({ name: x.name, value: x.value })),
        ...(b.launch_configuration !== undefined ? { launchConfiguration: structuredClone(b.launch_configuration) } : {}),
        createdAt: new Date().toISOString(),
        phase: 'creating',
        restarting: false,
        deleteRequested: false,
      };
      instances.set(id, rec);
      creates.push(structuredClone(b));
      provision(rec, key.public_key);
      return { status: 200, body: { id } };
    }),

    route('GET', '/instances', async () => {
      const recs = [...instances.values()].filter((r) => !r.deletedAt);
      const all = await wires(recs, false);
      return { status: 200, body: { instances: all.filter((w) => w.status !== 'deleted') } };
    }),

    route('GET', '/instances/:id/info', async ({ params }) => {
      const r = findLive(params.id);
      const [w] = await wires([r], true);
      if (w.status === 'deleted') throw E.notFound('instance');
      return { status: 200, body: w };
    }),

    route('POST', '/instances/:id/update', async ({ params, body, invalidJson }) => {
      const r = findLive(params.id);
      const b = bodyObject(body, invalidJson);
      if (b.name !== undefined) {
        if (typeof b.name !== 'string' || !b.name) throw E.invalid('name must be a non-empty string');
        r.name = b.name;
      }
      if (b.tags !== undefined) {
        if (b.tags === null) r.tags = [];
        else if (!Array.isArray(b.tags) || !b.tags.every((x) => typeof x === 'string')) throw E.invalid('tags must be a list of strings');
        else r.tags = [...b.tags];
      }
      return { status: 200 };
    }),

    route('POST', '/instances/:id/delete', async ({ params }) => {
      const r = findLive(params.id);
      startDelete(r);
      return { status: 200 };
    }),

    route('POST', '/instances/:id/restart', async ({ params }) => {
      const r = findLive(params.id);
      const b = r.backingId ? await backing.get(r.backingId) : undefined;
      if (r.deleteRequested || r.phase !== 'provisioned' || b?.status.lifecycleStatus !== 'running') {
        throw E.conflict(`instance is ${statusOf(r, b).status}: only an active instance can be restarted`);
      }
      r.restarting = true;
      await backing.reboot(r.backingId!);
      return { status: 200 };
    }),

    route('GET', '/sshkeys', async () => ({ status: 200, body: { ssh_keys: sshKeys.map((k) => ({ ...k })) } })),

    route('POST', '/sshkeys/add', async ({ body, invalidJson }) => {
      const b = bodyObject(body, invalidJson);
      if (typeof b.name !== 'string' || !b.name) throw E.invalid('name is required');
      if (typeof b.public_key !== 'string' || !PUBLIC_KEY.test(b.public_key.trim())) throw E.invalid('public_key is not a valid OpenSSH public key');
      if (sshKeys.some((k) => k.name === b.name)) throw E.conflict('name must be unique');
      const k = { id: randomUUID(), name: b.name, public_key: b.public_key.trim(), is_default: sshKeys.length === 0 };
      sshKeys.push(k);
      return { status: 200, body: { id: k.id } };
    }),

    route('GET', '/sshkeys/:id/info', async ({ params }) => {
      const k = sshKeys.find((x) => x.id === params.id);
      if (!k) throw E.notFound('ssh key');
      return { status: 200, body: { ...k } };
    }),

    route('POST', '/sshkeys/:id/delete', async ({ params }) => {
      const i = sshKeys.findIndex((x) => x.id === params.id);
      if (i < 0) throw E.notFound('ssh key');
      if (sshKeys[i].is_default) throw E.conflict('the default ssh key cannot be deleted');
      if ([...instances.values()].some((r) => live(r) && r.sshKeyId === params.id)) throw E.conflict('ssh key is in use');
      sshKeys.splice(i, 1);
      return { status: 200 };
    }),
  ];

  // --- the server -------------------------------------------------------------------------------

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, rec: RequestRecord): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://replica');
    const method = (req.method ?? 'GET').toUpperCase();
    rec.path = url.pathname;
    if (!url.pathname.startsWith(`${PREFIX}/`)) throw E.notFound('route');
    const path = url.pathname.slice(PREFIX.length);
    const key = req.headers['x-api-key'];
    rec.auth = typeof key === 'string' ? 'api-key' : 'none';
    if (typeof key !== 'string' || !timingSafeEqual(createHash('sha256').update(key).digest(), keyDigest)) throw E.unauthorized();
    const fail = takeCounted(failFaults, method, path);
    if (fail) {
      const status = fail.status ?? 503;
      throw e(status, status === 500 ? 'INTERNAL_ERROR' : 'SERVICE_UNAVAILABLE', 'service temporarily unavailable', fail.retryAfterSeconds !== undefined ? { 'retry-after': String(fail.retryAfterSeconds) } : {});
    }
    const limited = takeCounted(rateLimitFaults, method, path);
    if (limited) {
      const s = limited.retryAfterSeconds ?? 1;
      throw e(429, 'RATE_LIMITED', 'too many requests', (limited.retryAfterHeader ?? true) ? { 'retry-after': String(s) } : {});
    }
    const m = matchRoute(routes, method, path);
    if (m === 'method-not-allowed') throw e(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${url.pathname}`);
    if (!m) throw E.notFound('route');
    const { json, invalidJson } = await readBody(req);
    const out = await m.route.handler({ req, url, params: m.params, body: json, invalidJson });
    rec.status = out.status;
    send(res, out.status, out.body);
  }

  const { server, base, malformNext } = await serveReplica(handle, { requests, internalError: E.internal, host: opts.host, port: opts.port });

  const admin: ShadeformReplicaAdmin = {
    setOutOfStock: (f) => void (outOfStock = f.map((x) => ({ ...x }))),
    setQuotaExceeded: (on) => void (quotaExceeded = on),
    malformNext,
    rateLimitNext: (f) => void rateLimitFaults.push({ ...f }),
    failNext: (f) => void failFaults.push({ ...f }),
    failNextProvisioning: (count, details) => void (provisioningFailures = { count, details: details ?? '' }),
    clearFaults: () => {
      outOfStock = [];
      quotaExceeded = false;
      rateLimitFaults = [];
      failFaults = [];
      provisioningFailures = { count: 0, details: '' };
    },
    instances: async () => wires([...instances.values()], true),
    backingId: (id) => instances.get(id)?.backingId,
    sshKeys: () => sshKeys.map((k) => ({ ...k })),
    creates: () => creates.map((c) => structuredClone(c)),
    requests: () => requests.map((r) => ({ ...r })),
  };

  return {
    url: `${base}${PREFIX}`,
    admin,
    async close() {
      await closeServer(server);
      await Promise.allSettled([...background]);
    },
  };
}
