/**
 * Service groups for application code: `gf.launchServiceGroup(spec)` with `service.replicas`, and
 * a typed handle (status with its replicas, scale, stop, result).
 */
import type { WorkflowHandle } from '@temporalio/client';
import { groupStatusQuery, scaleUpdate, stopGroupUpdate, type ServiceGroupResult, type ServiceGroupStatus } from '../workflows/serviceGroupMessages.js';
import type { serviceGroupWorkflow } from '../workflows/serviceGroup.js';

export class ServiceGroupHandle {
  constructor(
    readonly groupId: string,
    private readonly handle: WorkflowHandle<typeof serviceGroupWorkflow>,
  ) {}

  status(): Promise<ServiceGroupStatus> {
    return this.handle.query(groupStatusQuery);
  }
  /** Sets the replica count (within service.replicas); returns the count the group aims for then. */
  scale(replicas: number, why?: string): Promise<number> {
    return this.handle.executeUpdate(scaleUpdate, { args: [{ replicas, ...(why ? { why } : {}) }] });
  }
  /** Drains and stops every replica; `result()` resolves once they are gone. */
  stop(reason = 'requested'): Promise<string> {
    return this.handle.executeUpdate(stopGroupUpdate, { args: [{ reason }] });
  }
  result(): Promise<ServiceGroupResult> {
    return this.handle.result();
  }
}
