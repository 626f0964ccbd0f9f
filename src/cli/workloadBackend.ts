/**
 * Where `gpuflow run|ps|status|stop|logs|ssh` send their calls: through a gpuflow server when one is
 * configured (GPUFLOW_SERVER, or the login `gpuflow login` saved), with the caller's token, so the
 * server enforces roles and audits; otherwise straight to Temporal as before. `--address` or
 * `--namespace` on the command line mean Temporal directly, whatever is configured.
 */
import type { Command } from 'commander';
import type { GpuflowClient } from '../client/gpuflowClient.js';
import { listWorkloadRows, type WorkloadRow } from '../client/workloadRows.js';
import type { WorkloadListOptions } from '../client/gpuflowClient.js';
import { GpuflowServerClient, resolveLogin, ServerRequestError } from '../server/client/serverClient.js';
import type { WorkloadResult, WorkloadState, WorkloadStatus } from '../workflows/messages.js';
import { temporalOverridesOf, withGpuflowClient } from './cliContext.js';
import { workloadUrl } from './webUi.js';

/** What the commands need of a workload, from either side. */
export interface WorkloadAccess {
  readonly workloadId: string;
  status(): Promise<WorkloadStatus>;
  /** `signal` ends the wait (its long poll too, so a detaching CLI exits at once); the promise then rejects. */
  result(opts?: { signal?: AbortSignal }): Promise<WorkloadResult>;
  stop(reason?: string): Promise<WorkloadState>;
  logs(lines?: number): Promise<string>;
  /** The job's last lines from the log store (directly to Temporal only; through a server, not yet). */
  storedOutput?(lines: number): Promise<string[]>;
}

export interface WorkloadBackend {
  /** "Temporal" or the server's URL, for messages. */
  readonly via: string;
  /** Through a server the job's output comes through it too (the caller's role is checked), not over SSH. */
  readonly viaServer: boolean;
  launch(spec: Record<string, unknown>): Promise<{ handle: WorkloadAccess; webUrl?: string }>;
  handle(workloadId: string): WorkloadAccess;
  rows(opts: WorkloadListOptions & { state?: WorkloadStatus['state'] }): Promise<WorkloadRow[]>;
  /** True when the error says the workload does not exist (or is not the caller's to see). */
  isNotFound(e: unknown): boolean;
}

function temporalBackend(c: GpuflowClient, cmd: Command): WorkloadBackend {
  return {
    via: 'Temporal',
    viaServer: false,
    async launch(spec) {
      const handle = await c.launch(spec);
      return { handle, webUrl: workloadUrl(temporalOverridesOf(cmd), handle.workloadId) };
    },
    handle: (id) => c.handle(id),
    rows: (opts) => listWorkloadRows(c, opts),
    isNotFound: (e) => (e as Error).name === 'WorkflowNotFoundError',
  };
}

export function serverBackend(s: GpuflowServerClient): WorkloadBackend {
  return {
    via: s.url,
    viaServer: true,
    async launch(spec) {
      const handle = await s.launch(spec);
      return { handle, ...(handle.temporalUrl ? { webUrl: handle.temporalUrl } : {}) };
    },
    handle: (id) => s.handle(id),
    rows: ({ project, state, limit }) => s.list({ ...(project ? { project } : {}), ...(state ? { state } : {}), ...(limit ? { limit } : {}), details: 'true' }),
    isNotFound: (e) => e instanceof ServerRequestError && e.status === 404,
  };
}

/** The server client when the CLI should go through one, else undefined. */
export function configuredServer(cmd: Command, env: NodeJS.ProcessEnv = process.env): GpuflowServerClient | undefined {
  const o = cmd.optsWithGlobals<{ address?: string; namespace?: string }>();
  if (o.address || o.namespace) return undefined;
  const login = resolveLogin(env);
  return login ? new GpuflowServerClient(login.url, login.token) : undefined;
}

export async function withWorkloadBackend<T>(cmd: Command, fn: (b: WorkloadBackend) => Promise<T>): Promise<T> {
  const server = configuredServer(cmd);
  if (server) return fn(serverBackend(server));
  return withGpuflowClient(cmd, (c) => fn(temporalBackend(c, cmd)));
}
