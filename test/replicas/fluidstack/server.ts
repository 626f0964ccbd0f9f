/**
 * A stateful replica of one region of FluidStack's Infrastructure API v1alpha1
 * (shared/specs/fluidstack-openapi.yaml) on 127.0.0.1, for tests. FluidStack serves each region
 * from its own host (`https://<region>.atlas.fluidstack.io/api/v1alpha1`), so one replica is one
 * region; start several for several regions.
 *
 * What it reproduces: the paths, methods and `/api/v1alpha1` prefix; `Authorization: Bearer` auth;
 * the project scoping (`X-PROJECT-ID`, a UUID, required where the spec requires it, and only this
 * region's project is accepted); JSON shapes (bare arrays and objects, `{"message"}` errors); the
 * spec's statuses (201 create, 204 delete, 202 actions, 400 invalid input, 403, 404, 409 state
 * conflict); instance states (`creating` → `running`, `stopping` → `stopped`, `starting`,
 * `deleting`, `out-of-stock`, `error`); capacity that creates use up (`GET /capacity`); and the
 * SSH key taken from cloud-init `userData` (`ssh_authorized_keys`), as a real image would.
 *
 * Each instance with a machine is backed by a real local cloud instance (an sshd), so SSH works.
 * Guesses, where the spec is silent: a bad token is 401 `{"message"}` (the spec lists no 401); a
 * create with no capacity left answers 201 with the instance in `out-of-stock` (capacity is a
 * state, not an HTTP error) and stays so until deleted; a preempted instance loses its machine
 * and shows `out-of-stock`; deleted instances disappear (404). No rate limits are documented, so
 * none are enforced; 429s come only from `admin.rateLimitNext`.
 *
 * Test-only extension: instances carry `gpuflow_replica: {ssh_port, ssh_user, not_privileged}`.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { parse as parseYaml } from 'yaml';
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
  type CountedFault,
  type MalformFault,
  type RequestRecord,
  type Route,
  serveReplica,
} from '../shared.js';
import { DEFAULT_FLUIDSTACK_REPLICA_CATALOG, type FluidstackReplicaTypeSpec } from './catalog.js';

const PREFIX = '/api/v1alpha1';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TAG_KEY = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const IMAGES = ['image://ubuntu22.04', 'image://ubuntu24.04'];
const PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$/;

export interface FluidstackReplicaOptions {
  localCloud: { url: string; token: string };
  apiToken: string;
  /** The region this replica is (default "replica-1"). */
  region?: string;
  /** The project's UUID in this region (default: a random one). */
  projectId?: string;
  backing?: { type: string; location: string };
  catalog?: readonly FluidstackReplicaTypeSpec[];
  host?: string;
  port?: number;
}

export interface FluidstackStockFault {
  /** Instance type name; omitted: every type. */
  type?: string;
  /** Also report no capacity in `GET /capacity` (default: capacity stays stale, as real catalogs do). */
  hideFromCapacity?: boolean;
}

export interface FluidstackReplicaAdmin {
  /** Creates of these types come back `out-of-stock`. */
  setOutOfStock(faults: FluidstackStockFault[]): void;
  /** The next matching 2xx answers are spoiled: an HTML page, truncated JSON, or JSON of the wrong types (see shared.ts). */
  malformNext(f: MalformFault): void;
  rateLimitNext(f: CountedFault & { retryAfterSeconds?: number; retryAfterHeader?: boolean }): void;
  failNext(f: CountedFault & { status?: 500 | 502 | 503; retryAfterSeconds?: number }): void;
  /** The next `count` creates are accepted but end in state `error`. */
  failNextProvisioning(count: number): void;
  /** Reclaims a preemptible instance's machine: it is killed and the instance shows `out-of-stock`. */
  preempt(id: string): Promise<void>;
  clearFaults(): void;
  /** An instance as `GET /instances/{id}` shows it, "deleted" once deleted, undefined if never created. */
  instance(id: string): Promise<Record<string, unknown> | 'deleted' | undefined>;
  /** Instances not deleted, as `GET /instances` shows them. */
  instances(): Promise<Record<string, unknown>[]>;
  backingId(id: string): string | undefined;
  /** Accepted create bodies, in order, with the X-PROJECT-ID they came with. */
  creates(): { projectId: string; body: Record<string, unknown> }[];
  requests(): RequestRecord[];
}

export interface FluidstackReplicaHandle {
  /** Base URL including `/api/v1alpha1`: a region's `url` in the adapter's credential. */
  url: string;
  region: string;
  projectId: string;
  admin: FluidstackReplicaAdmin;
  close(): Promise<void>;
}

interface Rec {
  id: string;
  name: string;
  type: FluidstackReplicaTypeSpec;
  image: string;
  preemptible: boolean;
  ephemeral: boolean;
  userData: string | null;
  tags: Record<string, string>;
  phase: 'out-of-stock' | 'provisioning' | 'provisioned' | 'error';
  backingId?: string | undefined;
  startRequested: boolean;
  deleteRequested: boolean;
  deleting?: Promise<void> | undefined;
  deleted: boolean;
  ip?: string | undefined;
  lastPort?: number;
  sshUser?: string;
}

const fail = (status: number, message: string, headers: Record<string, string> = {}) => new ReplicaResponse(status, { message }, headers);

/** The first `ssh_authorized_keys` entry of a base64 `#cloud-config` document, if any. */
export function authorizedKeyFromUserData(userData: string | null): string | undefined {
  if (!userData) return undefined;
  const text = Buffer.from(userData, 'base64').toString('utf8');
  if (!text.startsWith('#cloud-config')) return undefined;
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    return undefined;
  }
  const keys = (doc as { ssh_authorized_keys?: unknown } | null)?.ssh_authorized_keys;
  const first = Array.isArray(keys) ? keys.find((k): k is string => typeof k === 'string' && PUBLIC_KEY.test(k.trim())) : undefined;
  return first?.trim();
}

export async function startFluidstackReplica(opts: FluidstackReplicaOptions): Promise<FluidstackReplicaHandle> {
  const region = opts.region ?? 'replica-1';
  const projectId = opts.projectId ?? randomUUID();
  const backing = new BackingCloud(opts.localCloud, opts.backing, `fluidstack-${region}`);
  const catalog = (opts.catalog ?? DEFAULT_FLUIDSTACK_REPLICA_CATALOG).map((t) => structuredClone(t));
  const tokenDigest = createHash('sha256').update(opts.apiToken).digest();

  const instances = new Map<string, Rec>();
  const creates: { projectId: string; body: Record<string, unknown> }[] = [];
  const requests: RequestRecord[] = [];
  const background = new Set<Promise<unknown>>();

  let outOfStock: FluidstackStockFault[] = [];
  let rateLimitFaults: (CountedFault & { retryAfterSeconds?: number; retryAfterHeader?: boolean })[] = [];
  let failFaults: (CountedFault & { status?: 500 | 502 | 503; retryAfterSeconds?: number })[] = [];
  let provisioningFailures = 0;

  const track = <T>(p: Promise<T>): Promise<T> => {
    background.add(p);
    void p.finally(() => background.delete(p)).catch(() => undefined);
    return p;
  };

  // --- state ------------------------------------------------------------------------------------

  /** Instances holding a machine (or about to): what capacity counts. */
  const holding = (r: Rec) => !r.deleteRequested && (r.phase === 'provisioning' || r.phase === 'provisioned');
  const used = (t: FluidstackReplicaTypeSpec) => [...instances.values()].filter((r) => holding(r) && r.type === t).length;
  const stockFault = (t: FluidstackReplicaTypeSpec, hiddenOnly: boolean) => outOfStock.some((f) => (!hiddenOnly || f.hideFromCapacity) && (!f.type || f.type === t.name));
  const capacityLeft = (t: FluidstackReplicaTypeSpec) => (stockFault(t, true) ? 0 : Math.max(0, t.capacity - used(t)));

  function stateOf(r: Rec, b: Instance | undefined): string {
    if (r.deleteRequested) {
      if (!r.deleting && (!r.backingId || !b || b.status.lifecycleStatus === 'terminated')) {
        r.deleted = true;
        return 'deleted';
      }
      return 'deleting';
    }
    if (r.phase !== 'provisioned') return r.phase === 'provisioning' ? 'creating' : r.phase;
    switch (b?.status.lifecycleStatus) {
      case 'pending':
        return r.startRequested ? 'starting' : 'creating';
      case 'running':
        r.startRequested = false;
        r.lastPort = b.sshPort;
        r.sshUser = b.sshUser;
        r.ip ??= b.publicIp;
        return 'running';
      case 'stopping':
        return 'stopping';
      case 'stopped':
        return 'stopped';
      default:
        return 'error'; // the machine is gone or failed
    }
  }

  function wire(r: Rec, b: Instance | undefined): Record<string, unknown> {
    const state = stateOf(r, b);
    return {
      id: r.id,
      name: r.name,
      type: r.type.name,
      ip: r.ip ?? null,
      state,
      image: r.image.replace(/^image:\/\//, ''),
      preemptible: r.preemptible,
      ephemeral: r.ephemeral,
      userData: r.userData,
      filesystems: [],
      tags: { ...r.tags },
      gpuflow_replica: { ...(r.lastPort ? { ssh_port: r.lastPort } : {}), ...(r.sshUser ? { ssh_user: r.sshUser } : {}), not_privileged: true },
    };
  }

  async function wires(recs: Rec[]): Promise<Record<string, unknown>[]> {
    const bs = await backing.getMany(recs.filter((r) => r.backingId).map((r) => r.backingId!));
    return recs.map((r) => wire(r, r.backingId ? bs.get(r.backingId) : undefined)).filter((w) => w.state !== 'deleted');
  }

  async function one(r: Rec): Promise<Record<string, unknown> | undefined> {
    return (await wires([r]))[0];
  }

  function instanceId(id: string): string {
    // oapi-codegen servers refuse a malformed UUID path parameter before the handler runs.
    if (!UUID.test(id)) throw fail(400, `Invalid format for parameter id: error unmarshaling '${id}' text as *uuid.UUID: invalid UUID format`);
    return id.toLowerCase();
  }

  async function findLive(id: string): Promise<{ r: Rec; w: Record<string, unknown> }> {
    const r = instances.get(instanceId(id));
    const w = r && !r.deleted ? await one(r) : undefined;
    if (!r || !w) throw fail(404, 'instance not found');
    return { r, w };
  }

  function provision(r: Rec): void {
    const failIt = provisioningFailures > 0;
    if (failIt) provisioningFailures -= 1;
    void track(
      (async () => {
        await new Promise((res) => setTimeout(res, 50));
        if (failIt) {
          r.phase = 'error';
          return;
        }
        // The image authorizes what cloud-init says; without a key, nobody can log in.
        const key = authorizedKeyFromUserData(r.userData) ?? generateSshKeyPair('fluidstack-replica-nobody').publicKey;
        try {
          const inst = await backing.create(r.id, r.name, key);
          r.backingId = inst.cloudId;
          r.phase = 'provisioned';
          if (r.deleteRequested) startDelete(r);
        } catch {
          r.phase = 'error';
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
    if (invalidJson || typeof body !== 'object' || body === null || Array.isArray(body)) throw fail(400, 'request body has an error: value must be an object');
    return body as Record<string, unknown>;
  }

  /** The spec's X-PROJECT-ID: required, a UUID, and a project of this region the token can use. */
  function requireProject(req: http.IncomingMessage): string {
    const h = req.headers['x-project-id'];
    if (typeof h !== 'string' || !h) throw fail(400, 'Header parameter X-PROJECT-ID is required, but not found');
    if (!UUID.test(h)) throw fail(400, `Invalid format for parameter X-PROJECT-ID: error unmarshaling '${h}' text as *uuid.UUID: invalid UUID format`);
    if (h.toLowerCase() !== projectId) throw fail(403, `forbidden: no access to project ${h}`);
    return h;
  }

  function validateCreate(b: Record<string, unknown>): { t: FluidstackReplicaTypeSpec; image: string } {
    if (typeof b.name !== 'string' || !b.name) throw fail(400, 'request body has an error: property "name" is missing');
    if (typeof b.type !== 'string' || !b.type) throw fail(400, 'request body has an error: property "type" is missing');
    const t = catalog.find((x) => x.name === b.type);
    if (!t) throw fail(400, `unknown instance type "${b.type}"`);
    const image = b.image === undefined ? IMAGES[0] : b.image;
    if (typeof image !== 'string' || !IMAGES.includes(image)) throw fail(400, `unknown image ${JSON.stringify(b.image)} (available: ${IMAGES.join(', ')})`);
    for (const f of ['preemptible', 'ephemeral'] as const) if (b[f] !== undefined && typeof b[f] !== 'boolean') throw fail(400, `request body has an error: property "${f}" must be a boolean`);
    if (b.userData !== undefined && b.userData !== null && (typeof b.userData !== 'string' || !BASE64.test(b.userData))) throw fail(400, 'request body has an error: property "userData" must be base64');
    if (b.filesystems !== undefined) {
      if (!Array.isArray(b.filesystems)) throw fail(400, 'request body has an error: property "filesystems" must be an array');
      // This replica has no filesystems: any named one is not found.
      if (b.filesystems.length > 0) throw fail(404, `filesystem ${JSON.stringify(b.filesystems[0])} not found`);
    }
    if (b.tags !== undefined) {
      if (typeof b.tags !== 'object' || b.tags === null || Array.isArray(b.tags)) throw fail(400, 'request body has an error: property "tags" must be an object');
      for (const [k, v] of Object.entries(b.tags)) {
        if (!TAG_KEY.test(k)) throw fail(400, `invalid tag key "${k}": keys must be 1-63 characters, start and end with alphanumerics, and may include -, _ and .`);
        if (typeof v !== 'string') throw fail(400, `tag "${k}" must have a string value`);
      }
    }
    return { t, image };
  }

  // --- routes -----------------------------------------------------------------------------------

  const routes: Route[] = [
    route('GET', '/instance-types', async () => ({
      status: 200,
      body: catalog.map((t) => ({ name: t.name, cpu: t.cpu, memory: t.memory, ...(t.gpuModel ? { gpuModel: t.gpuModel } : {}), ...(t.gpuCount !== undefined ? { gpuCount: t.gpuCount } : {}) })),
    })),

    route('GET', '/capacity', async ({ req }) => {
      requireProject(req);
      return { status: 200, body: catalog.map((t) => ({ name: t.name, capacity: capacityLeft(t) })) };
    }),

    route('GET', '/capabilities', async () => ({
      status: 200,
      body: ['instances:list', 'instances:create', 'instances:delete', 'instances:read', 'instances:start', 'instances:stop', 'projects:list', 'projects:read'],
    })),

    route('GET', '/projects', async () => ({ status: 200, body: [{ id: projectId, name: `${region}-project`, state: 'active', tags: {} }] })),

    route('GET', '/projects/:id', async ({ params }) => {
      if (!UUID.test(params.id)) throw fail(400, `Invalid format for parameter id: error unmarshaling '${params.id}' text as *uuid.UUID: invalid UUID format`);
      if (params.id.toLowerCase() !== projectId) throw fail(404, 'project not found');
      return { status: 200, body: { id: projectId, name: `${region}-project`, state: 'active', tags: {} } };
    }),

    route('POST', '/instances', async ({ req, body, invalidJson }) => {
      const project = requireProject(req);
      const b = bodyObject(body, invalidJson);
      const { t, image } = validateCreate(b);
      const noStock = t.capacity - used(t) <= 0 || stockFault(t, false);
      const rec: Rec = {
        id: randomUUID(),
        name: b.name as string,
        type: t,
        image,
        preemptible: (b.preemptible as boolean | undefined) ?? false,
        ephemeral: (b.ephemeral as boolean | undefined) ?? false,
        userData: (b.userData as string | null | undefined) ?? null,
        tags: { ...((b.tags as Record<string, string> | undefined) ?? {}) },
        phase: noStock ? 'out-of-stock' : 'provisioning',
        startRequested: false,
        deleteRequested: false,
        deleted: false,
      };
      instances.set(rec.id, rec);
      creates.push({ projectId: project, body: structuredClone(b) });
      if (!noStock) provision(rec);
      return { status: 201, body: wire(rec, undefined) };
    }),

    route('GET', '/instances', async ({ req }) => {
      requireProject(req);
      return { status: 200, body: await wires([...instances.values()].filter((r) => !r.deleted)) };
    }),

    route('GET', '/instances/:id', async ({ req, params }) => {
      requireProject(req);
      return { status: 200, body: (await findLive(params.id)).w };
    }),

    route('DELETE', '/instances/:id', async ({ req, params }) => {
      requireProject(req);
      startDelete((await findLive(params.id)).r);
      return { status: 204 };
    }),

    route('POST', '/instances/:id/actions/stop', async ({ req, params }) => {
      requireProject(req);
      const { r, w } = await findLive(params.id);
      if (w.state !== 'running') throw fail(409, `instance is ${String(w.state)}: only a running instance can be stopped`);
      await (await backing.client()).stopInstance!(r.backingId!);
      return { status: 202 };
    }),

    route('POST', '/instances/:id/actions/start', async ({ req, params }) => {
      requireProject(req);
      const { r, w } = await findLive(params.id);
      if (w.state !== 'stopped') throw fail(409, `instance is ${String(w.state)}: only a stopped instance can be started`);
      r.startRequested = true;
      await (await backing.client()).startInstance!(r.backingId!);
      return { status: 202 };
    }),
  ];

  // --- the server -------------------------------------------------------------------------------

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, rec: RequestRecord): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://replica');
    const method = (req.method ?? 'GET').toUpperCase();
    rec.path = url.pathname;
    if (!url.pathname.startsWith(`${PREFIX}/`)) throw fail(404, 'not found');
    const path = url.pathname.slice(PREFIX.length);
    const auth = req.headers.authorization ?? '';
    const bearer = /^Bearer (.+)$/.exec(auth);
    rec.auth = bearer ? 'bearer' : auth ? 'other' : 'none';
    if (!bearer || !timingSafeEqual(createHash('sha256').update(bearer[1]).digest(), tokenDigest)) throw fail(401, 'unauthorized: invalid or missing bearer token');
    const failure = takeCounted(failFaults, method, path);
    if (failure) {
      const status = failure.status ?? 503;
      throw fail(status, status === 500 ? 'internal server error' : 'service temporarily unavailable', failure.retryAfterSeconds !== undefined ? { 'retry-after': String(failure.retryAfterSeconds) } : {});
    }
    const limited = takeCounted(rateLimitFaults, method, path);
    if (limited) {
      throw fail(429, 'too many requests', (limited.retryAfterHeader ?? true) ? { 'retry-after': String(limited.retryAfterSeconds ?? 1) } : {});
    }
    const m = matchRoute(routes, method, path);
    if (m === 'method-not-allowed') throw fail(405, `method ${method} not allowed on ${url.pathname}`);
    if (!m) throw fail(404, 'not found');
    const { json, invalidJson } = await readBody(req);
    const out = await m.route.handler({ req, url, params: m.params, body: json, invalidJson });
    rec.status = out.status;
    send(res, out.status, out.body);
  }

  const { server, base, malformNext } = await serveReplica(handle, { requests, internalError: () => fail(500, 'internal server error'), host: opts.host, port: opts.port });

  const admin: FluidstackReplicaAdmin = {
    setOutOfStock: (f) => void (outOfStock = f.map((x) => ({ ...x }))),
    malformNext,
    rateLimitNext: (f) => void rateLimitFaults.push({ ...f }),
    failNext: (f) => void failFaults.push({ ...f }),
    failNextProvisioning: (count) => void (provisioningFailures = count),
    async preempt(id) {
      const r = instances.get(id);
      if (!r || r.deleted || !r.preemptible || r.phase !== 'provisioned') throw new Error(`instance ${id} is not a provisioned preemptible instance`);
      const machine = r.backingId;
      r.phase = 'out-of-stock';
      r.backingId = undefined;
      r.ip = undefined;
      if (machine) await backing.terminate(machine);
    },
    clearFaults: () => {
      outOfStock = [];
      rateLimitFaults = [];
      failFaults = [];
      provisioningFailures = 0;
    },
    instance: async (id) => {
      const r = instances.get(id);
      if (!r) return undefined;
      return r.deleted ? 'deleted' : ((await one(r)) ?? 'deleted');
    },
    instances: async () => wires([...instances.values()].filter((r) => !r.deleted)),
    backingId: (id) => instances.get(id)?.backingId,
    creates: () => creates.map((c) => structuredClone(c)),
    requests: () => requests.map((r) => ({ ...r })),
  };

  return {
    url: `${base}${PREFIX}`,
    region,
    projectId,
    admin,
    async close() {
      await closeServer(server);
      await Promise.allSettled([...background]);
    },
  };
}
