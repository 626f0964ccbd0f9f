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

/** How a 2xx answer is spoiled on its way back, as proxies, CDNs and broken deploys do. */
export type MalformKind = 'html' | 'truncated' | 'wrong-types';
/**
 * The next `count` matching 2xx answers are spoiled (the request itself is still carried out).
 * `paths` here are substrings of the full request path, e.g. "/instances".
 */
export interface MalformFault extends CountedFault {
  kind: MalformKind;
  /** Only requests whose full path matches this. */
  pathPattern?: RegExp;
  /**
   * Only this operation, for APIs whose requests share one path (RunPod's GraphQL `operationName`,
   * EC2's `Action`): matched once the replica has read the request body.
   */
  operation?: string;
}

const HTML_ERROR_PAGE = '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>';

/** The same JSON with every leaf of the wrong type: numbers as strings, strings as numbers, booleans as strings. */
export function withWrongTypes(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withWrongTypes);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withWrongTypes(x)]));
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return v.length;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return v;
}

/**
 * The same XML with every leaf value of the wrong type, as far as XML has types (the SDK reads
 * numbers, booleans and timestamps by the model): numbers become a word, booleans "yes"/"no",
 * timestamps and other strings their length. Elements, and so the document's structure, stay.
 */
export function withWrongXmlTypes(xml: string): string {
  return xml.replace(/>([^<>]+)</g, (whole, v: string) => {
    if (!v.trim()) return whole;
    if (/^-?\d+(\.\d+)?$/.test(v.trim())) return '>many<';
    if (v.trim() === 'true' || v.trim() === 'false') return v.trim() === 'true' ? '>yes<' : '>no<';
    return `>${v.length}<`;
  });
}

function spoiledBody(kind: MalformKind, text: string, contentType: string): { body: string; contentType: string } {
  const xml = /xml/i.test(contentType);
  if (kind === 'html') return { body: HTML_ERROR_PAGE, contentType: 'text/html' };
  if (kind === 'truncated') return { body: text.slice(0, Math.max(1, Math.floor(text.length / 2))), contentType: xml ? contentType : 'application/json' };
  if (xml) return { body: withWrongXmlTypes(text), contentType };
  try {
    return { body: JSON.stringify(withWrongTypes(JSON.parse(text))), contentType: 'application/json' };
  } catch {
    return { body: text, contentType: 'application/json' };
  }
}

/** Makes `res` send a spoiled body instead of the 2xx its handler writes (error answers pass). */
export function spoilResponse(res: http.ServerResponse, kind: MalformKind): void {
  const writeHead = res.writeHead.bind(res) as (status: number, headers?: http.OutgoingHttpHeaders) => http.ServerResponse;
  const end = res.end.bind(res) as (chunk?: unknown) => http.ServerResponse;
  let status = 200;
  let headers: http.OutgoingHttpHeaders = {};
  res.writeHead = ((st: number, h?: http.OutgoingHttpHeaders) => {
    status = st;
    headers = h ?? {};
    return res;
  }) as typeof res.writeHead;
  res.end = ((chunk?: unknown) => {
    if (status < 200 || status > 299) return writeHead(status, headers).end(chunk as string);
    const { body, contentType } = spoiledBody(kind, chunk === undefined ? '' : String(chunk), String(headers['content-type'] ?? ''));
    writeHead(status, { ...headers, 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
    return end(body);
  }) as typeof res.end;
}

/**
 * Takes the malform fault matching this request, if any (paths match as substrings of the full
 * path). Faults naming an `operation` match only when `operation` is given (the body was read).
 */
export function takeMalform(faults: MalformFault[], method: string, path: string, operation?: string): MalformFault | undefined {
  const i = faults.findIndex(
    (f) =>
      f.count > 0 &&
      (!f.methods || f.methods.includes(method)) &&
      (!f.paths || f.paths.some((p) => path.includes(p))) &&
      (!f.pathPattern || f.pathPattern.test(path)) &&
      (f.operation === undefined ? operation === undefined : f.operation === operation),
  );
  if (i < 0) return undefined;
  const f = faults[i]!;
  f.count -= 1;
  if (f.count <= 0) faults.splice(i, 1);
  return f;
}

/**
 * A replica's HTTP server on `host:port` (default 127.0.0.1, any port): records every request in
 * `requests`, runs `handle`, and answers a thrown {@link ReplicaResponse} as it is and anything
 * else with the provider's own internal-error response.
 */
export async function serveReplica(
  handle: (req: http.IncomingMessage, res: http.ServerResponse, rec: RequestRecord) => Promise<void>,
  opts: { requests: RequestRecord[]; internalError: () => ReplicaResponse; host?: string | undefined; port?: number | undefined },
): Promise<{
  server: http.Server;
  base: string;
  malformNext: (f: MalformFault) => void;
  /** For handlers that learn the operation from the body: spoils `res` if a fault names `operation`. */
  malformOperation: (req: http.IncomingMessage, res: http.ServerResponse, operation: string) => void;
}> {
  const malformed: MalformFault[] = [];
  const server = http.createServer((req, res) => {
    const rec: RequestRecord = { method: (req.method ?? 'GET').toUpperCase(), path: req.url ?? '/', status: 0, auth: 'none', at: Date.now() };
    opts.requests.push(rec);
    const m = takeMalform(malformed, rec.method, new URL(rec.path, 'http://replica').pathname);
    if (m) spoilResponse(res, m.kind);
    handle(req, res, rec).catch((err: unknown) => {
      const r = err instanceof ReplicaResponse ? err : opts.internalError();
      rec.status = r.status;
      send(res, r.status, r.body, r.headers);
    });
  });
  server.keepAliveTimeout = 2_000;
  return {
    server,
    base: await listen(server, opts.host, opts.port),
    malformNext: (f) => void malformed.push({ ...f }),
    malformOperation: (req, res, operation) => {
      const m = takeMalform(malformed, (req.method ?? 'GET').toUpperCase(), new URL(req.url ?? '/', 'http://replica').pathname, operation);
      if (m) spoilResponse(res, m.kind);
    },
  };
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

/**
 * An HTTP proxy in front of a real API (the local cloud daemon, which has no replica: it is the
 * real thing) that spoils the next matching 2xx answers as {@link serveReplica} does: the request
 * is carried out, its answer is replaced on the way back.
 */
export async function startSpoilingProxy(target: string): Promise<{ url: string; malformNext: (f: MalformFault) => void; close(): Promise<void> }> {
  const malformed: MalformFault[] = [];
  const server = http.createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      const m = takeMalform(malformed, (req.method ?? 'GET').toUpperCase(), new URL(req.url ?? '/', 'http://proxy').pathname);
      if (m) spoilResponse(res, m.kind);
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k)) as [string, string][]);
      const r = await fetch(new URL(req.url ?? '/', target), { method: req.method ?? 'GET', headers, ...(body.length ? { body } : {}) });
      const text = await r.text();
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
    })().catch(() => send(res, 502, 'proxy error'));
  });
  const url = await listen(server);
  return { url, malformNext: (f) => void malformed.push({ ...f }), close: () => closeServer(server) };
}
