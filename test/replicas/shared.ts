/**
 * Plumbing shared by the provider replicas (test/replicas/<provider>/): a tiny router over
 * node:http, JSON bodies, a per-key token bucket, one-shot fault counters, and the local cloud
 * that backs every replica instance with a real sshd (so SSH into a replica's instance works).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LocalCredential } from '../../src/providers/local/index.js';
import type { CloudClient } from '../../src/providers/sdk/client.js';
import type { Instance } from '../../src/providers/sdk/types.js';

export const MAX_BODY_BYTES = 2 << 20;

/** A response the handler chose to fail with (status, exact body, extra headers). */
export class ReplicaResponse extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

export async function readBody(req: http.IncomingMessage): Promise<{ text: string; json: unknown; invalidJson: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) break;
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return { text, json: undefined, invalidJson: false };
  try {
    return { text, json: JSON.parse(text), invalidJson: false };
  } catch {
    return { text, json: undefined, invalidJson: true };
  }
}

export function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  if (body === undefined) {
    res.writeHead(status, { 'content-length': '0', ...headers }).end();
    return;
  }
  if (typeof body === 'string') {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers }).end(body);
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
}

export type Params = Record<string, string>;
export interface RouteContext {
  req: http.IncomingMessage;
  url: URL;
  params: Params;
  /** Parsed JSON body (undefined when empty). */
  body: unknown;
  invalidJson: boolean;
}
export type Handler = (ctx: RouteContext) => Promise<{ status: number; body?: unknown }>;
export interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
}

export function route(method: string, pathPattern: string, handler: Handler): Route {
  const keys: string[] = [];
  const re = pathPattern.replace(/:([a-zA-Z]+)/g, (_, k: string) => {
    keys.push(k);
    return '([^/]+)';
  });
  return { method, pattern: new RegExp(`^${re}/?$`), keys, handler };
}

export function matchRoute(routes: Route[], method: string, pathname: string): { route: Route; params: Params } | 'method-not-allowed' | undefined {
  let pathMatched = false;
  for (const r of routes) {
    const m = r.pattern.exec(pathname);
    if (!m) continue;
    pathMatched = true;
    if (r.method !== method) continue;
    const params: Params = {};
    r.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1])));
    return { route: r, params };
  }
  return pathMatched ? 'method-not-allowed' : undefined;
}

export async function listen(server: http.Server, host = '127.0.0.1', port = 0): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  return `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
}

export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 1000).unref();
  });
}

/** A token bucket: `ratePerSecond` refill, `burst` capacity. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
    this.last = Date.now();
  }

  /** Takes one token, or says how long until one is there. */
  take(now = Date.now()): { ok: true } | { ok: false; waitMs: number } {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, waitMs: Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000) };
  }
}

/** "At most one per interval", like Lambda's launch limit. */
export class MinInterval {
  private lastAt = -Infinity;
  constructor(private readonly intervalMs: number) {}
  take(now = Date.now()): { ok: true } | { ok: false; waitMs: number } {
    const wait = this.lastAt + this.intervalMs - now;
    if (wait > 0) return { ok: false, waitMs: wait };
    this.lastAt = now;
    return { ok: true };
  }
}

/** A fault that fires for the next `count` matching requests. */
export interface CountedFault {
  count: number;
  methods?: string[];
  /** Path prefixes (after the API prefix), e.g. "/instance-operations/launch". */
  paths?: string[];
}

export function takeCounted<T extends CountedFault>(faults: T[], method: string, path: string): T | undefined {
  const i = faults.findIndex(
    (f) => f.count > 0 && (!f.methods || f.methods.includes(method)) && (!f.paths || f.paths.some((p) => path.startsWith(p))),
  );
  if (i < 0) return undefined;
  const f = faults[i];
  f.count -= 1;
  if (f.count <= 0) faults.splice(i, 1);
  return f;
}

/** Matches a (type, region) create; omitted fields match anything. */
export interface PlacementMatch {
  type?: string;
  region?: string;
}
export function matches(m: PlacementMatch, type: string, region: string): boolean {
  return (!m.type || m.type === type) && (!m.region || m.region === region);
}

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
  /** Which auth the request carried: "bearer", "basic", "api-key" or "none" (never the key). */
  auth: string;
  at: number;
}

/**
 * A replica's HTTP server on `host:port` (default 127.0.0.1, any port): records every request in
 * `requests`, runs `handle`, and answers a thrown {@link ReplicaResponse} as it is and anything
 * else with the provider's own internal-error response.
 */
export async function serveReplica(
  handle: (req: http.IncomingMessage, res: http.ServerResponse, rec: RequestRecord) => Promise<void>,
  opts: { requests: RequestRecord[]; internalError: () => ReplicaResponse; host?: string | undefined; port?: number | undefined },
): Promise<{ server: http.Server; base: string }> {
  const server = http.createServer((req, res) => {
    const rec: RequestRecord = { method: (req.method ?? 'GET').toUpperCase(), path: req.url ?? '/', status: 0, auth: 'none', at: Date.now() };
    opts.requests.push(rec);
    handle(req, res, rec).catch((err: unknown) => {
      const r = err instanceof ReplicaResponse ? err : opts.internalError();
      rec.status = r.status;
      send(res, r.status, r.body, r.headers);
    });
  });
  server.keepAliveTimeout = 2_000;
  return { server, base: await listen(server, opts.host, opts.port) };
}

/**
 * The local cloud behind a replica: every replica instance is one local cloud instance (a real
 * sshd on 127.0.0.1), made through the local cloud's own adapter.
 */
export class BackingCloud {
  private clientPromise: Promise<CloudClient> | undefined;
  private placement: Promise<{ type: string; location: string }> | undefined;

  constructor(
    private readonly opts: { url: string; token: string },
    private readonly backing?: { type: string; location: string },
    private readonly refPrefix = 'replica',
  ) {}

  client(): Promise<CloudClient> {
    this.clientPromise ??= new LocalCredential({ refId: `${this.refPrefix}-backing`, url: this.opts.url, token: this.opts.token }).makeClient('');
    return this.clientPromise;
  }

  /** The configured (type, location), else the local cloud's first available type. */
  where(): Promise<{ type: string; location: string }> {
    this.placement ??= (async () => {
      if (this.backing) return this.backing;
      const t = (await (await this.client()).getInstanceTypes({})).find((x) => x.isAvailable);
      if (!t) throw new Error('the local cloud behind the replica has no available instance type');
      return { type: t.type, location: t.location };
    })();
    return this.placement;
  }

  async create(refId: string, name: string, publicKey: string): Promise<Instance> {
    const { type, location } = await this.where();
    return (await this.client()).createInstance({ refId: `${this.refPrefix}-${refId}`, name, location, instanceType: type, publicKey, tags: { replica: this.refPrefix } });
  }

  async get(id: string): Promise<Instance | undefined> {
    try {
      return await (await this.client()).getInstance(id);
    } catch {
      return undefined;
    }
  }

  async getMany(ids: string[]): Promise<Map<string, Instance>> {
    if (ids.length === 0) return new Map();
    const list = await (await this.client()).listInstances({ instanceIds: ids });
    return new Map(list.map((i) => [i.cloudId, i]));
  }

  async terminate(id: string): Promise<void> {
    await (await this.client()).terminateInstance(id);
  }

  async reboot(id: string): Promise<void> {
    const c = await this.client();
    await c.rebootInstance!(id);
  }
}
