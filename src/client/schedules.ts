/**
 * Recurring workloads for application code: `gf.schedules.create({...})` and typed handles.
 *
 *   const sched = await gf.schedules.create({
 *     scheduleId: 'nightly-eval',
 *     workload: { recipe: { name: 'smoke-test', params: { seconds: 30 } } },
 *     cron: '0 3 * * *',
 *     overlap: 'skip',
 *     executionTimeout: '2h',
 *   });
 *   console.log(await sched.describe());
 */
import { ScheduleNotFoundError, type Client, type ScheduleDescription, type ScheduleHandle, type ScheduleSpecDescription } from '@temporalio/client';
import ms from 'ms';
import { overlapName, planSchedule, type OverlapPolicy, type WorkloadScheduleInput } from '../schedules/schedule.js';
import type { WorkloadSpec } from '../workload/spec.js';

export interface ScheduleRun {
  /** The workload the run started (`<scheduleId>-<scheduled time>`). */
  workloadId: string;
  scheduledAt: Date;
  startedAt: Date;
}

export interface WorkloadScheduleInfo {
  scheduleId: string;
  /** "every 6h", "cron 0 3 * * *" */
  when: string;
  paused: boolean;
  note?: string;
  workload?: string;
  project?: string;
  nextRuns: Date[];
  recentRuns: ScheduleRun[];
  /** IANA time zone of a cron schedule (next runs are shown in it). */
  timezone?: string;
}

export interface WorkloadScheduleDescription extends WorkloadScheduleInfo {
  overlap: OverlapPolicy;
  catchupWindowMs: number;
  pauseOnFailure: boolean;
  executionTimeoutMs?: number;
  /** The validated workload spec each run starts with. */
  spec?: WorkloadSpec;
  runningWorkloads: string[];
  actionsTaken: number;
  skippedOverlap: number;
  missedCatchupWindow: number;
  createdAt: Date;
}

function describeWhen(spec: ScheduleSpecDescription | undefined, memoWhen: unknown): string {
  const parts: string[] = [];
  for (const i of spec?.intervals ?? []) parts.push(`every ${ms(i.every)}${i.offset ? ` at offset ${ms(i.offset)}` : ''}`);
  // The server turns cron expressions into calendars; the memo keeps what the user wrote.
  if (parts.length === 0 && typeof memoWhen === 'string') return memoWhen;
  if (parts.length === 0 && spec?.calendars?.length) parts.push(`${spec.calendars.length} calendar spec(s)`);
  return parts.join('; ') || 'never';
}

function runsOf(recent: ScheduleDescription['info']['recentActions']): ScheduleRun[] {
  return recent.map((a) => ({ workloadId: a.action.workflow.workflowId, scheduledAt: a.scheduledAt, startedAt: a.takenAt }));
}

export class WorkloadScheduleHandle {
  constructor(readonly scheduleId: string, private readonly handle: ScheduleHandle, private readonly workflows?: Client['workflow']) {}

  async describe(): Promise<WorkloadScheduleDescription> {
    const d = await this.handle.describe();
    const memo = d.memo ?? {};
    const args = d.action.args as [{ spec?: WorkloadSpec }] | undefined;
    return {
      scheduleId: d.scheduleId,
      when: describeWhen(d.spec, memo.when),
      paused: d.state.paused,
      ...(d.state.note ? { note: d.state.note } : {}),
      ...(typeof memo.workload === 'string' ? { workload: memo.workload } : {}),
      ...(typeof memo.project === 'string' ? { project: memo.project } : {}),
      nextRuns: d.info.nextActionTimes,
      recentRuns: runsOf(d.info.recentActions),
      overlap: overlapName(d.policies.overlap),
      catchupWindowMs: d.policies.catchupWindow,
      pauseOnFailure: d.policies.pauseOnFailure,
      ...(d.action.workflowExecutionTimeout !== undefined ? { executionTimeoutMs: Number(d.action.workflowExecutionTimeout) } : {}),
      ...(args?.[0]?.spec ? { spec: args[0].spec } : {}),
      ...(d.spec.timezone ? { timezone: d.spec.timezone } : {}),
      runningWorkloads: await this.running(d),
      actionsTaken: d.info.numActionsTaken,
      skippedOverlap: d.info.numActionsSkippedOverlap,
      missedCatchupWindow: d.info.numActionsMissedCatchupWindow,
      createdAt: d.info.createdAt,
    };
  }
  /**
   * The schedule's running actions lag a run started by `trigger`: the recent runs whose workflow
   * still runs count too.
   */
  private async running(d: ScheduleDescription): Promise<string[]> {
    const ids = new Set(d.info.runningActions.map((a) => a.workflow.workflowId));
    if (this.workflows) {
      const workflows = this.workflows;
      await Promise.all(
        d.info.recentActions.slice(-10).map(async (a) => {
          const w = a.action.workflow;
          const desc = await workflows.getHandle(w.workflowId, w.firstExecutionRunId).describe().catch(() => undefined);
          if (desc?.status.name === 'RUNNING') ids.add(w.workflowId);
        }),
      );
    }
    return [...ids];
  }

  pause(note = 'paused with gpuflow'): Promise<void> {
    return this.handle.pause(note);
  }
  unpause(note = 'unpaused with gpuflow'): Promise<void> {
    return this.handle.unpause(note);
  }
  /** Starts one run now (the overlap policy still applies). */
  trigger(): Promise<void> {
    return this.handle.trigger();
  }
  /** Deletes the schedule; runs already started go on. */
  delete(): Promise<void> {
    return this.handle.delete();
  }
}

export class WorkloadSchedules {
  constructor(private readonly temporal: Client, private readonly taskQueue: string) {}

  /** Validates (throwing InvalidScheduleError naming the field) and creates the schedule. */
  async create(input: WorkloadScheduleInput): Promise<WorkloadScheduleHandle> {
    const { options } = planSchedule(input, this.taskQueue);
    const h = await this.temporal.schedule.create(options);
    return new WorkloadScheduleHandle(h.scheduleId, h, this.temporal.workflow);
  }

  handle(scheduleId: string): WorkloadScheduleHandle {
    return new WorkloadScheduleHandle(scheduleId, this.temporal.schedule.getHandle(scheduleId), this.temporal.workflow);
  }

  /** gpuflow's schedules (those whose action starts workloadWorkflow), optionally of one project. */
  async list(opts: { project?: string } = {}): Promise<WorkloadScheduleInfo[]> {
    const out: WorkloadScheduleInfo[] = [];
    for await (const s of this.temporal.schedule.list()) {
      if (s.action?.workflowType !== 'workloadWorkflow') continue;
      const memo = s.memo ?? {};
      if (opts.project && memo.project !== opts.project) continue;
      out.push({
        scheduleId: s.scheduleId,
        when: describeWhen(s.spec, memo.when),
        paused: s.state.paused,
        ...(s.state.note ? { note: s.state.note } : {}),
        ...(typeof memo.workload === 'string' ? { workload: memo.workload } : {}),
        ...(typeof memo.project === 'string' ? { project: memo.project } : {}),
        nextRuns: s.info.nextActionTimes,
        recentRuns: runsOf(s.info.recentActions),
        ...((s.spec as { timezone?: string } | undefined)?.timezone ? { timezone: (s.spec as { timezone: string }).timezone } : {}),
      });
    }
    return out.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
  }

  async exists(scheduleId: string): Promise<boolean> {
    try {
      await this.temporal.schedule.getHandle(scheduleId).describe();
      return true;
    } catch (e) {
      if (e instanceof ScheduleNotFoundError) return false;
      throw e;
    }
  }
}
