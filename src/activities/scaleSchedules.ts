/**
 * A service group's scale schedules (service.scale): one Temporal Schedule per entry, each
 * starting serviceScaleWorkflow at its cron time, created when the group starts (idempotent: an
 * existing one is updated to the entry) and deleted when it ends.
 */
import { Context } from '@temporalio/activity';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ServiceScaleInput } from '../workflows/serviceScale.js';

export interface ScaleScheduleEntry {
  at: string;
  replicas: number;
  /** Milliseconds (the parsed spec's `for`). */
  for: number;
}

/** The schedule ID of a group's scale entry i. */
export function scaleScheduleId(groupId: string, i: number): string {
  return `${groupId}-scale-${i}`;
}

export function scaleScheduleActivities() {
  return {
    async ensureScaleSchedules(input: { groupId: string; taskQueue: string; entries: ScaleScheduleEntry[] }): Promise<string[]> {
      const client = Context.current().client;
      const ids: string[] = [];
      for (const [i, e] of input.entries.entries()) {
        const scheduleId = scaleScheduleId(input.groupId, i);
        const args: [ServiceScaleInput] = [{ groupId: input.groupId, replicas: e.replicas, forMs: e.for, at: e.at }];
        const options = {
          scheduleId,
          spec: { cronExpressions: [e.at] },
          action: { type: 'startWorkflow' as const, workflowType: 'serviceScaleWorkflow', taskQueue: input.taskQueue, workflowId: `${scheduleId}-run`, args },
          policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: 60_000 },
          memo: { group: input.groupId, when: `cron ${e.at}` },
        };
        try {
          await client.schedule.create(options);
        } catch (err) {
          if (!(err instanceof ScheduleAlreadyRunning)) {
            if (/invalid|cron/i.test((err as Error).message)) throw ApplicationFailure.nonRetryable(`service.scale[${i}].at "${e.at}": ${(err as Error).message}`, 'InvalidScaleSchedule');
            throw err;
          }
          await client.schedule.getHandle(scheduleId).update((prev) => ({ ...prev, spec: options.spec, action: { ...prev.action, ...options.action } }));
        }
        ids.push(scheduleId);
      }
      return ids;
    },

    async deleteScaleSchedules(input: { groupId: string; count: number }): Promise<void> {
      const client = Context.current().client;
      for (let i = 0; i < input.count; i++) {
        try {
          await client.schedule.getHandle(scaleScheduleId(input.groupId, i)).delete();
        } catch (err) {
          if (!(err instanceof ScheduleNotFoundError)) throw err;
        }
      }
    },
  };
}
