/**
 * The local cloud daemon's HTTP API (node:http, JSON, bearer token). See ../README.md for the
 * endpoints. Instances are real: each one is an OpenSSH sshd on 127.0.0.1 with its own home.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { z } from 'zod';
import {
  CreateInstanceBodySchema,
  FaultsSchema,
  GpuUtilizationBodySchema,
  LOCAL_API_VERSION,
  LOCAL_ERROR_CODES,
  LOCAL_PROVIDER_ID,
  PreemptBodySchema,
  UpdateTagsBodySchema,
  type LocalCloudInfo,
  type LocalErrorCode,
} from '../api.js';
import { defaultCatalog, LocalCatalogSchema, parseCatalog, type LocalCatalog, type LocalCatalogInput } from './catalog.js';
import { CloudApiError, LocalCloudEngine, type ListFilter } from './engine.js';
import { METADATA_TOKEN_HEADER, SELF_TERMINATE_PATH, SelfTerminateBodySchema, writeMetadataEndpoint } from './metadata.js';
import { DEFAULT_SSHD_TOOLS, sshUser } from './sshd.js';

export interface LocalCloudOptions {
  dataDir: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  token: string;
  /** Defaults to the built-in catalog. Parsed (and defaulted) with LocalCatalogSchema. */
  catalog?: LocalCatalog | LocalCatalogInput | undefined;
  logger?: Logger;
  /** Default /usr/sbin/sshd. */
  sshdPath?: string;
  /** Default ssh-keygen (on PATH). */
  sshKeygenPath?: string;
  /** SIGTERM → SIGKILL grace when killing an instance's processes; default 1500 ms. */
  killGraceMs?: number;
}

export interface LocalCloudHandle {
  url: string;
  token: string;
  /** Stops the HTTP server and its sshd children; persisted state stays. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1 << 20;
/** A whole catalog may be large (a 100,000-offer synthetic catalog is ~5 MB of JSON). */
const MAX_CATALOG_BODY_BYTES = 64 << 20;

class HttpError extends Error {
  constructor(
    readonly code: LocalErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function defaultLogger(): Logger {
  return pino(
    { name: 'local-cloud', level: process.env.GPUFLOW_LOG_LEVEL ?? 'warn', redact: { paths: ['token', 'authorization', '*.authorization'], censor: '[redacted]' } },
    pino.destination(2),
  );
}

function zodMessage(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
}

function parseBody<T extends z.ZodTypeAny>(schema: T, body: unknown): z.output<T> {
  const r = schema.safeParse(body);
  if (!r.success) throw new HttpError('invalid-request', zodMessage(r.error));
  return r.data;
}

async function readJson(req: http.IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new HttpError('payload-too-large', `request body is larger than ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError('invalid-request', 'request body is not valid JSON');
  }
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  if (status === 204) {
    res.writeHead(204, headers).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
}

function sendError(res: http.ServerResponse, code: LocalErrorCode, message: string, headers: Record<string, string> = {}): void {
  send(res, LOCAL_ERROR_CODES[code], { error: { code, message } }, headers);
}

const digest = (s: string) => createHash('sha256').update(s).digest();

type Params = Record<string, string>;
type Handler = (ctx: { req: http.IncomingMessage; url: URL; params: Params }) => Promise<{ status: number; data?: unknown }>;
interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
}

function route(method: string, pathPattern: string, handler: Handler): Route {
  const keys: string[] = [];
  const re = pathPattern.replace(/:([a-zA-Z]+)/g, (_, k: string) => {
    keys.push(k);
    return '([^/]+)';
  });
  return { method, pattern: new RegExp(`^${re}$`), keys, handler };
}

function listFilterFrom(url: URL): ListFilter {
  const tags: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) {
    if (k.startsWith('tag.') && k.length > 4) (tags[k.slice(4)] ??= []).push(v);
  }
  return {
    locations: url.searchParams.getAll('location').filter(Boolean),
    ids: url.searchParams.getAll('id').filter(Boolean),
    tags,
  };
}

export async function startLocalCloud(opts: LocalCloudOptions): Promise<LocalCloudHandle> {
  if (!opts.token || opts.token.length < 8) throw new Error('the local cloud token must be at least 8 characters');
  const logger = opts.logger ?? defaultLogger();
  const catalog = parseCatalog(opts.catalog ?? defaultCatalog(), 'catalog');
  const dataDir = path.resolve(opts.dataDir);
  const engine = await LocalCloudEngine.open({
    dataDir,
    catalog,
    logger,
    tools: { sshdPath: opts.sshdPath ?? DEFAULT_SSHD_TOOLS.sshdPath, sshKeygenPath: opts.sshKeygenPath ?? DEFAULT_SSHD_TOOLS.sshKeygenPath },
    killGraceMs: opts.killGraceMs ?? 1500,
  });
  const exitHook = () => engine.killAllSshdSync();
  process.once('exit', exitHook);

  const tokenDigest = digest(opts.token);
  const authorized = (header: string | undefined) => {
    const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
    return !!m && timingSafeEqual(digest(m[1]!.trim()), tokenDigest);
  };

  let baseUrl = '';
  const info = (): LocalCloudInfo => ({
    provider: LOCAL_PROVIDER_ID,
    apiVersion: LOCAL_API_VERSION,
    instancePollMs: engine.catalog.instancePollMs,
    instanceTypePollMs: engine.catalog.instanceTypePollMs,
    maxCreateRequestsPerMinute: engine.catalog.maxCreateRequestsPerMinute,
    bootDelayMs: engine.catalog.bootDelayMs,
    sshUser: sshUser(),
  });

  const routes: Route[] = [
    route('GET', '/v1/info', async () => ({ status: 200, data: info() })),
    route('GET', '/v1/locations', async ({ url }) => ({
      status: 200,
      data: engine.locations(url.searchParams.get('includeUnavailable') === 'true', baseUrl),
    })),
    route('GET', '/v1/instance-types', async ({ url }) => ({
      status: 200,
      data: engine.instanceTypes({ locations: url.searchParams.getAll('location').filter(Boolean), types: url.searchParams.getAll('type').filter(Boolean) }),
    })),
    route('POST', '/v1/instances', async ({ req }) => {
      const body = parseBody(CreateInstanceBodySchema, await readJson(req));
      const { instance, created } = await engine.create(body);
      if (created && engine.faults.takeLostCreateResponse()) {
        throw new HttpError('service-unavailable', 'injected fault: the create response was lost (the instance exists)', { 'retry-after': '1' });
      }
      return { status: created ? 201 : 200, data: instance };
    }),
    route('GET', '/v1/instances', async ({ url }) => ({ status: 200, data: engine.list(listFilterFrom(url)) })),
    route('GET', '/v1/instances/:id', async ({ params }) => ({ status: 200, data: engine.get(params.id!) })),
    route('DELETE', '/v1/instances/:id', async ({ params }) => {
      const inst = await engine.terminate(params.id!);
      return inst ? { status: 200, data: inst } : { status: 204 };
    }),
    route('POST', '/v1/instances/:id/stop', async ({ params }) => ({ status: 202, data: await engine.stop(params.id!) })),
    route('POST', '/v1/instances/:id/start', async ({ params }) => ({ status: 202, data: await engine.start(params.id!) })),
    route('POST', '/v1/instances/:id/reboot', async ({ params }) => ({ status: 202, data: await engine.reboot(params.id!) })),
    route('PATCH', '/v1/instances/:id/tags', async ({ req, params }) => {
      const body = parseBody(UpdateTagsBodySchema, await readJson(req));
      return { status: 200, data: await engine.updateTags(params.id!, body.tags) };
    }),
    route('GET', '/admin/faults', async () => ({ status: 200, data: engine.faults.get() })),
    route('PUT', '/admin/faults', async ({ req }) => {
      const body = parseBody(FaultsSchema, await readJson(req));
      const data = engine.faults.set(body);
      logger.info({ faults: data }, 'faults set');
      return { status: 200, data };
    }),
    route('DELETE', '/admin/faults', async () => {
      engine.faults.clear();
      return { status: 204 };
    }),
    route('POST', '/admin/instances/:id/preempt', async ({ req, params }) => {
      const body = parseBody(PreemptBodySchema, await readJson(req));
      return { status: 200, data: await engine.preempt(params.id!, body.message) };
    }),
    route('POST', '/admin/instances/:id/fail-host', async ({ req, params }) => {
      const body = parseBody(PreemptBodySchema, await readJson(req));
      return { status: 200, data: await engine.failHost(params.id!, body.message) };
    }),
    route('PUT', '/admin/instances/:id/gpu-utilization', async ({ req, params }) => {
      const body = parseBody(GpuUtilizationBodySchema, await readJson(req));
      await engine.setGpuUtilization(params.id!, body.values);
      return { status: 200, data: { values: body.values } };
    }),
    route('GET', '/admin/stats', async () => ({ status: 200, data: engine.stats() })),
    route('GET', '/admin/catalog', async () => ({ status: 200, data: engine.catalog })),
    route('PUT', '/admin/catalog', async ({ req }) => {
      const body = parseBody(LocalCatalogSchema, await readJson(req, MAX_CATALOG_BODY_BYTES));
      engine.replaceCatalog(body);
      return { status: 200, data: engine.catalog };
    }),
  ];

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://local-cloud');
    const method = (req.method ?? 'GET').toUpperCase();
    if (url.pathname === '/healthz' && method === 'GET') {
      send(res, 200, { data: { ok: true } });
      return;
    }
    // The instance-side metadata API authenticates with the calling instance's own token, never
    // the API token (see metadata.ts); injected API faults do not apply to it.
    if (url.pathname === SELF_TERMINATE_PATH) {
      if (method !== 'POST') throw new HttpError('method-not-allowed', `${method} is not allowed on ${url.pathname} (use POST)`);
      const token = req.headers[METADATA_TOKEN_HEADER];
      if (typeof token !== 'string' || !token.trim()) {
        throw new HttpError('unauthorized', `missing ${METADATA_TOKEN_HEADER} header (the instance's metadata token)`);
      }
      const body = parseBody(SelfTerminateBodySchema, await readJson(req));
      send(res, 202, { data: engine.selfTerminate(token.trim(), body.reason) });
      return;
    }
    if (!authorized(req.headers.authorization)) {
      sendError(res, 'unauthorized', 'missing or invalid bearer token (send "Authorization: Bearer <token>")', { 'www-authenticate': 'Bearer' });
      return;
    }
    if (!url.pathname.startsWith('/admin/')) {
      if (engine.faults.latencyMs > 0) await new Promise((r) => setTimeout(r, engine.faults.latencyMs));
      const outage = engine.faults.unavailableFor(method, url.pathname);
      if (outage) {
        if (outage.status === 429) sendError(res, 'rate-limited', 'slow down', { 'retry-after': outage.retryAfter });
        else sendError(res, 'service-unavailable', 'the local cloud API is temporarily unavailable (injected fault)', { 'retry-after': outage.retryAfter });
        return;
      }
    }
    let pathMatched = false;
    for (const r of routes) {
      const m = r.pattern.exec(url.pathname);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== method) continue;
      const params: Params = {};
      r.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1]!)));
      const out = await r.handler({ req, url, params });
      send(res, out.status, out.status === 204 ? undefined : { data: out.data });
      return;
    }
    if (pathMatched) sendError(res, 'method-not-allowed', `${method} is not allowed on ${url.pathname}`);
    else sendError(res, 'not-found', `no route ${method} ${url.pathname}`);
  };

  const server = http.createServer((req, res) => {
    const started = Date.now();
    handle(req, res)
      .catch((err: unknown) => {
        if (err instanceof HttpError) return sendError(res, err.code, err.message, err.headers);
        if (err instanceof CloudApiError) return sendError(res, err.code, err.message);
        logger.error({ err, method: req.method, url: req.url }, 'request failed');
        sendError(res, 'internal-error', (err as Error)?.message ?? 'internal error');
      })
      .finally(() => logger.debug({ method: req.method, url: req.url, status: res.statusCode, ms: Date.now() - started }, 'request'));
  });
  server.keepAliveTimeout = 5_000;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    process.off('exit', exitHook);
    await engine.close();
    throw e;
  }
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  baseUrl = `http://${host}:${addr.port}`;
  await writeMetadataEndpoint(dataDir, addr.address, addr.port);
  logger.info({ url: baseUrl, dataDir }, 'local cloud listening');

  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    token: opts.token,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 2000).unref();
        });
        await engine.close();
        process.off('exit', exitHook);
        logger.info({ url: baseUrl }, 'local cloud stopped');
      })();
      return closing;
    },
  };
}
