/**
 * serviceScaleWorkflow: what a service group's scale schedule (service.scale, a Temporal Schedule)
 * starts at each cron time: it tells the group to burst, and ends.
 */
import { getExternalWorkflowHandle } from '@temporalio/workflow';
import { burstSignal } from './serviceGroupMessages.js';

export interface ServiceScaleInput {
  groupId: string;
  replicas: number;
  forMs: number;
  /** The schedule entry, e.g. `0 18 * * FRI`, for the group's scale events. */
  at: string;
}

export async function serviceScaleWorkflow(input: ServiceScaleInput): Promise<void> {
  await getExternalWorkflowHandle(input.groupId).signal(burstSignal, {
    replicas: input.replicas,
    forMs: input.forMs,
    why: `schedule "${input.at}": ${input.replicas} replicas for ${Math.round(input.forMs / 60_000)} min`,
  });
}
