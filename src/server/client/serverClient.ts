/**
 * The embedding API through a gpuflow server instead of straight to Temporal:
 *
 *   const gf = GpuflowServerClient.fromEnv();        // GPUFLOW_SERVER + GPUFLOW_TOKEN, or `gpuflow login`
 *   const wl = await gf.launch({ name: 'finetune', project: 'ml', command: 'python train.py', gpu: { classes: ['H100'] } });
 *   console.log(await wl.status());
 *   await wl.stop();
 *
 * Specs are validated here first (same zod schema as the server), so bad input fails before a request.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { gpuflowHome } from '../../config/paths.js';
import type { BudgetStatus } from '../../budget/ledger.js';
import type { CostReport } from '../../budget/report.js';
import type { WorkloadResult, WorkloadState } from '../../workflows/messages.js';
import { rowFromJSON, type WorkloadRow } from '../../client/workloadRows.js';
import type { LaunchResponse, ResultResponse, WorkloadListQueryInput, WorkloadListResponse, WorkloadStatusResponse } from '../api/workloads.js';
import { parseWorkloadSpec, type WorkloadSpecInput } from '../../workload/spec.js';

export const SERVER_ENV = 'GPUFLOW_SERVER';
export const TOKEN_ENV = 'GPUFLOW_TOKEN';

const LoginFileSchema = z.object({ url: z.url(), token: z.string().min(1) }).strict();
export type ServerLogin = z.output<typeof LoginFileSchema>;

export function loginFile(): string {
  return join(gpuflowHome(), 'server-login.json');
}

/** Writes the login with mode 0600 (the token is a password). */
export function saveLogin(login: ServerLogin, file = loginFile()): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(LoginFileSchema.parse(login), null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** GPUFLOW_SERVER/GPUFLOW_TOKEN first, then the login file; undefined when neither is set. */
export function resolveLogin(env: NodeJS.ProcessEnv = process.env, file = loginFile()): ServerLogin | undefined {
  const url = env[SERVER_ENV];
  if (url) {
    let token = env[TOKEN_ENV];
    if (!token) {
      try {
        const saved = LoginFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
        if (saved.url.replace(/\/$/, '') === url.replace(/\/$/, '')) token = saved.token;
      } catch {
        // no saved login for this server
      }
    }
    if (!token) throw new Error(`${SERVER_ENV} is set but there is no token: set ${TOKEN_ENV} or run gpuflow login ${url}`);
    return { url, token };
  }
  try {
    return LoginFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
}

export class ServerRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly issues?: { path: string; message: string }[],
  ) {
    super(issues?.length ? `${message}:\n${issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n')}` : message);
    this.name = 'ServerRequestError';
  }
}

/** A workload through the server: the same calls as the Temporal client's WorkloadHandle. */
export class ServerWorkloadHandle {
  constructor(
    readonly workloadId: string,
    private readonly client: GpuflowServerClient,
    /** The workload in the Temporal Web UI, when the server knows the UI's address. */
    readonly temporalUrl?: string,
  ) {}
  private get path(): string {
    return `/v1/workloads/${encodeURIComponent(this.workloadId)}`;
  }
  status(): Promise<WorkloadStatusResponse> {
    return this.client.request('GET', this.path);
  }
  /** Resolves with the result when the workload ends; rejects with its error if it failed (long polls the server; `signal` ends the poll). */
  async result(opts: { signal?: AbortSignal } = {}): Promise<WorkloadResult> {
    for (;;) {
      opts.signal?.throwIfAborted();
      const r = await this.client.request<ResultResponse>('GET', `${this.path}/result?waitSeconds=20`, undefined, opts);
      if (r.state === 'completed') return r.result;
      if (r.state === 'failed') throw new Error(r.error);
    }
  }
  async stop(reason?: string): Promise<WorkloadState> {
    return (await this.client.request<{ state: WorkloadState }>('POST', `${this.path}/stop`, reason ? { reason } : {})).state;
  }
  async logs(lines = 100): Promise<string> {
    return (await this.client.request<{ logs: string }>('GET', `${this.path}/logs?lines=${lines}`)).logs;
  }
}

const queryString = (q: Record<string, unknown>) => {
  const qs = new URLSearchParams(Object.entries(q).filter(([, v]) => v !== undefined).map(([k, v]): [string, string] => [k, String(v)]));
  return qs.size ? `?${qs}` : '';
};

export class GpuflowServerClient {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env): GpuflowServerClient {
    const login = resolveLogin(env);
    if (!login) throw new Error(`not logged in: set ${SERVER_ENV} and ${TOKEN_ENV}, or run gpuflow login <url>`);
    return new GpuflowServerClient(login.url, login.token);
  }

  async request<T>(method: string, path: string, body?: unknown, opts: { signal?: AbortSignal } = {}): Promise<T> {
    const res = await fetch(`${this.url.replace(/\/$/, '')}${path}`, {
      method,
      ...(opts.signal ? { signal: opts.signal } : {}),
      headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const e = (parsed ?? {}) as { error?: string; issues?: { path: string; message: string }[] };
      throw new ServerRequestError(res.status, `${this.url} answered ${res.status}: ${e.error ?? res.statusText}`, e.issues);
    }
    return parsed as T;
  }

  me(): Promise<{ user: { name: string; serverAdmin: boolean }; projects: { name: string; tenant: string; role: string }[] }> {
    return this.request('GET', '/v1/me');
  }

  async launch(spec: WorkloadSpecInput | Record<string, unknown>, opts: { workloadId?: string } = {}): Promise<ServerWorkloadHandle> {
    parseWorkloadSpec(spec);
    const r = await this.request<LaunchResponse>('POST', `/v1/workloads${queryString({ workloadId: opts.workloadId })}`, spec);
    return new ServerWorkloadHandle(r.workloadId, this, r.temporalUrl);
  }

  handle(workloadId: string): ServerWorkloadHandle {
    return new ServerWorkloadHandle(workloadId, this);
  }

  /** Workloads the token may read; `details: 'true'` adds each one's outcome and cost. */
  async list(q: WorkloadListQueryInput = {}): Promise<WorkloadRow[]> {
    return (await this.request<WorkloadListResponse>('GET', `/v1/workloads${queryString(q)}`)).workloads.map(rowFromJSON);
  }

  async budgets(): Promise<BudgetStatus[]> {
    return (await this.request<{ budgets: BudgetStatus[] }>('GET', '/v1/budgets')).budgets;
  }

  cost(q: { project?: string; tenant?: string; by?: 'day' | 'week' | 'month'; since?: string } = {}): Promise<CostReport> {
    return this.request('GET', `/v1/costs${queryString(q)}`);
  }
}
