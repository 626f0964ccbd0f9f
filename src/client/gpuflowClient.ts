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
import { Client, WorkflowIdReusePolicy, type WorkflowHandle } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { z } from 'zod';
import { BudgetsApi } from '../budget/api.js';
import { temporalConfigFromEnv, type TemporalConfig } from '../config/temporalConfig.js';
import { connectClient } from '../temporal/connect.js';
import { formatGpuCount } from '../routing/constraints.js';
import { AutoShutdownSchema, InvalidWorkloadSpecError, parseWorkloadSpec, type AutoShutdown, type WorkloadSpecInput } from '../workload/spec.js';
import { WorkloadSchedules } from './schedules.js';
import {
  logsUpdate,
  SA_PROJECT,
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

export class WorkloadHandle {
  constructor(readonly workloadId: string, private readonly handle: WorkflowHandle<typeof workloadWorkflow>) {}

  status(): Promise<WorkloadStatus> {
    return this.handle.query(statusQuery);
  }
  /** Resolves with the result when the workload ends; rejects with the failure if it failed. */
  result(): Promise<WorkloadResult> {
    return this.handle.result();
  }
  stop(reason = 'requested'): Promise<WorkloadState> {
    return this.handle.executeUpdate(stopUpdate, { args: [{ reason }] });
  }
  /** Cancels the workflow: the job is stopped and the instance terminated before it ends. */
  cancel(): Promise<void> {
    return this.handle.cancel().then(() => undefined);
  }
  logs(lines = 100): Promise<string> {
    return this.handle.executeUpdate(logsUpdate, { args: [{ lines }] });
  }
  /** Validated here, like a spec: `{ idleWindow: '10m' }` gets the other fields' defaults. */
  setAutoShutdown(next: z.input<typeof AutoShutdownSchema>): Promise<AutoShutdown> {
    const r = AutoShutdownSchema.safeParse(next);
    if (!r.success) {
      throw new InvalidWorkloadSpecError(r.error.issues.map((i) => ({ path: ['autoShutdown', ...i.path.map(String)].join('.'), message: i.message })));
    }
    return this.handle.executeUpdate(setAutoShutdownUpdate, { args: [r.data] });
  }
  describe() {
    return this.handle.describe();
  }
}

export interface WorkloadSummary {
  workloadId: string;
  state: string;
  status: string;
  project?: string;
  startTime: Date;
  closeTime?: Date;
}

export class GpuflowClient {
  /** Budgets and cost reports per project, tenant and provider connection. */
  readonly budgets: BudgetsApi;

  constructor(readonly temporal: Client, readonly taskQueue: string) {
    this.budgets = new BudgetsApi(temporal, taskQueue);
  }

  static async connect(overrides: Partial<TemporalConfig> = {}): Promise<GpuflowClient> {
    const cfg = temporalConfigFromEnv(overrides);
    return new GpuflowClient(await connectClient(cfg), cfg.taskQueue);
  }

  /** Validates the spec (throwing InvalidWorkloadSpecError before anything starts) and starts it. */
  async launch(specInput: WorkloadSpecInput | unknown, opts: { workloadId?: string } = {}): Promise<WorkloadHandle> {
    const spec = parseWorkloadSpec(specInput);
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
      memo: { name: spec.name, gpu: `${formatGpuCount(spec.gpu.count)}x ${spec.gpu.classes.join('|')}`, spot: spec.spot },
      // Shown as the workflow's summary in the Temporal Web UI.
      staticSummary: `${spec.name} (${formatGpuCount(spec.gpu.count)}x ${spec.gpu.classes.join('|')}${spec.recipeRef ? `, recipe ${spec.recipeRef.name}` : ''})`,
    });
    return new WorkloadHandle(workloadId, handle);
  }

  /** Recurring workloads on Temporal Schedules (cron or interval). */
  get schedules(): WorkloadSchedules {
    return new WorkloadSchedules(this.temporal, this.taskQueue);
  }

  handle(workloadId: string): WorkloadHandle {
    return new WorkloadHandle(workloadId, this.temporal.workflow.getHandle<typeof workloadWorkflow>(workloadId));
  }

  async list(opts: { project?: string; state?: string; limit?: number } = {}): Promise<WorkloadSummary[]> {
    const clauses = [`WorkflowType = 'workloadWorkflow'`];
    if (opts.project) clauses.push(`${SA_PROJECT.name} = '${opts.project.replace(/'/g, '')}'`);
    if (opts.state) clauses.push(`${SA_STATE.name} = '${opts.state.replace(/'/g, '')}'`);
    const out: WorkloadSummary[] = [];
    for await (const wf of this.temporal.workflow.list({ query: clauses.join(' AND ') })) {
      out.push({
        workloadId: wf.workflowId,
        state: String(wf.typedSearchAttributes.get(SA_STATE) ?? ''),
        status: wf.status.name,
        ...(wf.typedSearchAttributes.get(SA_PROJECT) ? { project: String(wf.typedSearchAttributes.get(SA_PROJECT)) } : {}),
        startTime: wf.startTime,
        ...(wf.closeTime ? { closeTime: wf.closeTime } : {}),
      });
      if (out.length >= (opts.limit ?? 50)) break;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.temporal.connection.close();
  }
}
