/**
 * The embedding API: application code launches workloads and holds typed handles to them.
 *
 *   const gf = await GpuflowClient.connect();
 *   const wl = await gf.launch({ name: 'finetune', command: 'python train.py', gpu: { classes: ['H100'] } });
 *   console.log(await wl.status());
 *   const result = await wl.result();
 *   await gf.budgets.set({ project: 'ml' }, { cap: '500.00', period: 'month' });
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { gpuflowHome } from '../config/paths.js';
import { Client, WorkflowIdReusePolicy, type WorkflowHandle } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { z } from 'zod';
import { BudgetsApi } from '../budget/api.js';
import { temporalConfigFromEnv, type TemporalConfig } from '../config/temporalConfig.js';
import { connectClient } from '../temporal/connect.js';
import { formatGpuCount } from '../routing/constraints.js';
import { AutoShutdownSchema, InvalidWorkloadSpecError, parseWorkloadSpec, type AutoShutdown, type WorkloadSpec, type WorkloadSpecInput } from '../workload/spec.js';
import { WorkloadSchedules } from './schedules.js';
import { packSync, SyncSourceError } from '../sync/pack.js';
import { openContentStore, type ContentStore } from '../sync/store.js';
import { LocalLogStore } from '../logs/localStore.js';
import { workloadLogs, type LogsOptions } from '../logs/reader.js';
import type { LogLine } from '../logs/records.js';
import { logSettingsFromEnv } from '../logs/settings.js';
import type { LogStore } from '../logs/store.js';
import { defaultSshKeyFile, workflowLogView } from '../logs/workloadView.js';
import {
  logsUpdate,
  migrateUpdate,
  updatePlacementUpdate,
  SA_PROJECT,
  SA_PROVIDER,
  SA_REGION,
  SA_SPOT,
  SA_STATE,
  SA_TENANT,
  setAutoShutdownUpdate,
  statusQuery,
  stopUpdate,
  type WorkloadResult,
  type WorkloadState,
  type WorkloadStatus,
} from '../workflows/messages.js';
import type { workloadWorkflow } from '../workflows/workload.js';
import type { serviceGroupWorkflow } from '../workflows/serviceGroup.js';
import { ServiceGroupHandle } from './serviceGroups.js';
import { statusNow } from '../workload/statusNow.js';

/** No Temporal server answered at the configured address. */
export class TemporalUnreachableError extends Error {
  constructor(readonly address: string, readonly namespace: string, cause: Error) {
    super(
      `cannot reach the Temporal server at ${address} (${cause.message.replace(/\.$/, '')}): is \`gpuflow dev\` running? ` +
        `Start it, or point gpuflow at your server with TEMPORAL_ADDRESS (or --address) and TEMPORAL_NAMESPACE`,
    );
    this.name = 'TemporalUnreachableError';
  }
}

function isLoopback(address: string): boolean {
  const host = address.slice(0, address.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

export interface LaunchOptions {
  workloadId?: string;
  /** Where relative `workdir` and `files` paths start (default: the current directory). */
  baseDir?: string;
  /** Where workdir and files are packed (default: GPUFLOW_STORE, else ~/.gpuflow/store); the worker must read the same. */
  store?: ContentStore;
  /** Who launched it (the server's user ID), kept in the workflow's memo: the workload carries its owner. */
  owner?: string;
}

/** Packs workdir and files into the content store; a bad source fails like a bad spec field. */
async function packSpecSync(spec: ReturnType<typeof parseWorkloadSpec>, opts: LaunchOptions) {
  try {
    return await packSync(
      {
        workdir: spec.workdir,
        files: spec.files,
        ...(opts.baseDir ? { baseDir: opts.baseDir } : {}),
        statCache: join(gpuflowHome(), 'cache', 'pack-hashes.json'),
        ...(spec.syncLimits ? { limits: { maxFiles: spec.syncLimits.maxFiles, maxBytes: Math.floor(spec.syncLimits.maxMiB * 1024 ** 2) } } : {}),
      },
      opts.store ?? openContentStore(),
    );
  } catch (e) {
    if (e instanceof SyncSourceError) throw new InvalidWorkloadSpecError([{ path: e.field, message: e.message.slice(e.field.length + 2) }]);
    throw e;
  }
}

/** Where a client reads logs: the store the worker ships to, and the worker's SSH key for live reads. */
export interface ClientLogOptions {
  /** Default: the local directory of GPUFLOW_LOG_DIR, else $GPUFLOW_HOME/logs (as the worker). */
  logStore?: LogStore;
  /** The worker's private key file; default GPUFLOW_SSH_KEY, else `gpuflow dev`'s key when readable. Without one, following reads the store. */
  sshKeyFile?: string;
}

export class WorkloadHandle {
  constructor(
    readonly workloadId: string,
    private readonly handle: WorkflowHandle<typeof workloadWorkflow>,
    private readonly logOptions: ClientLogOptions = {},
  ) {}

  /** What the workload shows now: a live workload's elapsed time and cost are brought to this clock. */
  async status(): Promise<WorkloadStatus> {
    return statusNow(await this.handle.query(statusQuery), Date.now());
  }
  /**
   * Resolves with the result when the workload ends; rejects with the failure if it failed.
   * `signal` cancels the wait and its long poll (which would otherwise hold the process up to 20 s).
   */
  result(opts: { signal?: AbortSignal } = {}): Promise<WorkloadResult> {
    if (!opts.signal) return this.handle.result();
    return this.handle.client.withAbortSignal(opts.signal, () => this.handle.result());
  }
  stop(reason = 'requested'): Promise<WorkloadState> {
    return this.handle.executeUpdate(stopUpdate, { args: [{ reason }] });
  }
  /** Cancels the workflow: the job is stopped and the instance terminated before it ends. */
  cancel(): Promise<void> {
    return this.handle.cancel().then(() => undefined);
  }
  /**
   * `logs({ follow })`: the job's output as an async iterator of lines (every attempt's stored log,
   * then, following, new lines live until the workload ends), read from the log store and the node,
   * never through the workflow. `logs(n)`: the last n lines of the live node's log through the
   * worker (a workflow update), as before the log store.
   */
  logs(opts?: LogsOptions): AsyncGenerator<LogLine>;
  logs(lines: number): Promise<string>;
  logs(arg: LogsOptions | number = {}): AsyncGenerator<LogLine> | Promise<string> {
    if (typeof arg === 'number') return this.handle.executeUpdate(logsUpdate, { args: [{ lines: arg }] });
    const store = this.logOptions.logStore ?? new LocalLogStore(logSettingsFromEnv().dir);
    const view = workflowLogView(this.workloadId, this.handle, () => this.status(), this.logOptions.sshKeyFile ?? defaultSshKeyFile());
    return workloadLogs(store, this.workloadId, view, arg);
  }
  /**
   * The last `lines` lines the job wrote (stdout and stderr, no gpuflow notes), from the log store:
   * complete once the workload has ended, since the worker ships the final read before the job's
   * exit reaches the workflow, unlike a live tail cut off when the instance goes.
   */
  async storedOutput(lines: number): Promise<string[]> {
    const out: string[] = [];
    for await (const l of this.logs({ tail: lines })) if (l.stream !== 'gpuflow') out.push(l.text);
    return out.slice(-lines);
  }
  /** Validated here, like a spec: `{ idleWindow: '10m' }` gets the other fields' defaults. */
  setAutoShutdown(next: z.input<typeof AutoShutdownSchema>): Promise<AutoShutdown> {
    const r = AutoShutdownSchema.safeParse(next);
    if (!r.success) {
      throw new InvalidWorkloadSpecError(r.error.issues.map((i) => ({ path: ['autoShutdown', ...i.path.map(String)].join('.'), message: i.message })));
    }
    return this.handle.executeUpdate(setAutoShutdownUpdate, { args: [r.data] });
  }
  /**
   * Moves the running job now, make-before-break (optionally to `provider/region`): resolves with
   * the verdict once the move is decided (`moving`); the move itself shows in status().attempts.
   */
  migrate(to?: string): Promise<{ moving: boolean; why: string }> {
    return this.handle.executeUpdate(migrateUpdate, { args: [to ? { to } : {}] });
  }
  /** Replaces placement.countries and/or placement.regions (null clears); a job they exclude moves within placement.residencyDeadline. */
  updatePlacement(update: { countries?: string[] | null; regions?: string[] | null }): Promise<string> {
    return this.handle.executeUpdate(updatePlacementUpdate, { args: [update] });
  }
  describe() {
    return this.handle.describe();
  }
}

export interface WorkloadListOptions {
  project?: string;
  /** Any of these projects. */
  projects?: readonly string[];
  tenant?: string;
  state?: string;
  /** Temporal execution status: Running, Completed, Failed, Canceled, Terminated, TimedOut. */
  status?: string;
  /** At most this many (default 50). */
  limit?: number;
}

/** A value in a visibility query: only name characters survive, so nothing can close the quote. */
const quoteVisibility = (v: string) => `'${v.replace(/[^A-Za-z0-9._-]/g, '')}'`;

export interface WorkloadSummary {
  workloadId: string;
  state: string;
  status: string;
  project?: string;
  tenant?: string;
  name?: string;
  /** From the memo: "1x L4", and the spot policy. */
  gpu?: string;
  spot?: string;
  /** From the search attributes, once an offer was chosen. */
  provider?: string;
  region?: string;
  onSpot?: boolean;
  startTime: Date;
  closeTime?: Date;
}

export class GpuflowClient {
  /** Budgets and cost reports per project, tenant and provider connection. */
  readonly budgets: BudgetsApi;

  constructor(
    readonly temporal: Client,
    readonly taskQueue: string,
    private readonly logOptions: ClientLogOptions = {},
  ) {
    this.budgets = new BudgetsApi(temporal, taskQueue);
  }

  /**
   * Connects within `connectTimeoutMs` (default 2 s on a loopback address, where a server answers at
   * once or not at all; 10 s elsewhere), else throws TemporalUnreachableError naming the address.
   */
  static async connect(overrides: Partial<TemporalConfig> = {}, opts: { connectTimeoutMs?: number } & ClientLogOptions = {}): Promise<GpuflowClient> {
    const cfg = temporalConfigFromEnv(overrides);
    const connectTimeoutMs = opts.connectTimeoutMs ?? (isLoopback(cfg.address) ? 2_000 : 10_000);
    const logOptions: ClientLogOptions = { ...(opts.logStore ? { logStore: opts.logStore } : {}), ...(opts.sshKeyFile ? { sshKeyFile: opts.sshKeyFile } : {}) };
    try {
      return new GpuflowClient(await connectClient(cfg, { connectTimeoutMs }), cfg.taskQueue, logOptions);
    } catch (e) {
      throw new TemporalUnreachableError(cfg.address, cfg.namespace, e as Error);
    }
  }

  /** Validates the spec (throwing InvalidWorkloadSpecError before anything starts) and starts it. */
  async launch(specInput: WorkloadSpecInput | unknown, opts: LaunchOptions = {}): Promise<WorkloadHandle> {
    const spec = parseWorkloadSpec(specInput);
    if (spec.service?.replicas) throw new InvalidWorkloadSpecError([{ path: 'service.replicas', message: 'a spec with replicas is a service group: start it with GpuflowClient.launchServiceGroup' }]);
    return this.launchParsed(spec, opts);
  }

  /** Starts a service group: `service.replicas` replicas behind the `service.endpoint` proxy. */
  async launchServiceGroup(specInput: WorkloadSpecInput | unknown, opts: Pick<LaunchOptions, 'workloadId'> = {}): Promise<ServiceGroupHandle> {
    const spec = parseWorkloadSpec(specInput);
    if (!spec.service?.replicas) throw new InvalidWorkloadSpecError([{ path: 'service.replicas', message: 'a service group needs service.replicas: { min, max } (and lifecycle: { kind: service })' }]);
    if (spec.workdir !== undefined || spec.files) throw new InvalidWorkloadSpecError([{ path: 'workdir', message: 'service groups do not sync workdir or files yet: bake them into the image or setup' }]);
    const groupId = opts.workloadId ?? `${spec.name}-${randomUUID().slice(0, 8)}`;
    const handle = await this.temporal.workflow.start<typeof serviceGroupWorkflow>('serviceGroupWorkflow', {
      taskQueue: this.taskQueue,
      workflowId: groupId,
      args: [{ spec }],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: new TypedSearchAttributes([
        { key: SA_PROJECT, value: spec.project },
        { key: SA_TENANT, value: spec.tenant },
      ]),
      memo: { name: spec.name, kind: 'service-group' },
      staticSummary: `${spec.name}: ${spec.service.replicas.min}-${spec.service.replicas.max} replicas behind :${spec.service.endpoint?.port}`,
    });
    return new ServiceGroupHandle(groupId, handle);
  }

  serviceGroup(groupId: string): ServiceGroupHandle {
    return new ServiceGroupHandle(groupId, this.temporal.workflow.getHandle<typeof serviceGroupWorkflow>(groupId));
  }

  /** Starts an already validated spec (the server parses once, at its boundary). */
  async launchParsed(spec: WorkloadSpec, opts: LaunchOptions = {}): Promise<WorkloadHandle> {
    if (spec.workdir !== undefined || spec.files) spec.sync = await packSpecSync(spec, opts);
    const workloadId = opts.workloadId ?? `${spec.name}-${randomUUID().slice(0, 8)}`;
    const handle = await this.temporal.workflow.start<typeof workloadWorkflow>('workloadWorkflow', {
      taskQueue: this.taskQueue,
      workflowId: workloadId,
      args: [{ spec }],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: new TypedSearchAttributes([
        { key: SA_STATE, value: 'pending' },
        { key: SA_PROJECT, value: spec.project },
        { key: SA_TENANT, value: spec.tenant },
      ]),
      memo: { name: spec.name, gpu: `${formatGpuCount(spec.gpu.count)}x ${spec.gpu.classes.join('|')}`, spot: spec.spot, ...(opts.owner ? { owner: opts.owner } : {}) },
      // Shown as the workflow's summary in the Temporal Web UI.
      staticSummary: `${spec.name} (${formatGpuCount(spec.gpu.count)}x ${spec.gpu.classes.join('|')}${spec.recipeRef ? `, recipe ${spec.recipeRef.name}` : ''})`,
    });
    return new WorkloadHandle(workloadId, handle, this.logOptions);
  }

  /** Recurring workloads on Temporal Schedules (cron or interval). */
  get schedules(): WorkloadSchedules {
    return new WorkloadSchedules(this.temporal, this.taskQueue);
  }

  /** `logOptions` override the client's for this handle's logs (e.g. another SSH key). */
  handle(workloadId: string, logOptions: ClientLogOptions = {}): WorkloadHandle {
    return new WorkloadHandle(workloadId, this.temporal.workflow.getHandle<typeof workloadWorkflow>(workloadId), { ...this.logOptions, ...logOptions });
  }

  /**
   * Workloads from Temporal visibility, newest first. `projects` narrows to any of several projects
   * (the server's readable set); names are reduced to their safe characters before they enter the query.
   */
  async list(opts: WorkloadListOptions = {}): Promise<WorkloadSummary[]> {
    const limit = opts.limit ?? 50;
    const clauses = [`WorkflowType = 'workloadWorkflow'`];
    if (opts.project) clauses.push(`${SA_PROJECT.name} = ${quoteVisibility(opts.project)}`);
    if (opts.projects) clauses.push(`${SA_PROJECT.name} IN (${opts.projects.map(quoteVisibility).join(', ')})`);
    if (opts.tenant) clauses.push(`${SA_TENANT.name} = ${quoteVisibility(opts.tenant)}`);
    if (opts.state) clauses.push(`${SA_STATE.name} = ${quoteVisibility(opts.state)}`);
    if (opts.status) clauses.push(`ExecutionStatus = ${quoteVisibility(opts.status)}`);
    const out: WorkloadSummary[] = [];
    // One page holds the whole answer: a smaller page would cost a visibility round trip per page.
    for await (const wf of this.temporal.workflow.list({ query: clauses.join(' AND '), pageSize: Math.min(limit, 1000) })) {
      const project = wf.typedSearchAttributes.get(SA_PROJECT);
      const tenant = wf.typedSearchAttributes.get(SA_TENANT);
      const provider = wf.typedSearchAttributes.get(SA_PROVIDER);
      const region = wf.typedSearchAttributes.get(SA_REGION);
      const onSpot = wf.typedSearchAttributes.get(SA_SPOT);
      out.push({
        workloadId: wf.workflowId,
        state: String(wf.typedSearchAttributes.get(SA_STATE) ?? ''),
        status: wf.status.name,
        ...(project ? { project: String(project) } : {}),
        ...(tenant ? { tenant: String(tenant) } : {}),
        ...(typeof wf.memo?.name === 'string' ? { name: wf.memo.name } : {}),
        ...(typeof wf.memo?.gpu === 'string' ? { gpu: wf.memo.gpu } : {}),
        ...(typeof wf.memo?.spot === 'string' ? { spot: wf.memo.spot } : {}),
        ...(provider ? { provider: String(provider) } : {}),
        ...(region ? { region: String(region) } : {}),
        ...(onSpot !== undefined ? { onSpot: Boolean(onSpot) } : {}),
        startTime: wf.startTime,
        ...(wf.closeTime ? { closeTime: wf.closeTime } : {}),
      });
      if (out.length >= limit) break;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.temporal.connection.close();
  }
}
