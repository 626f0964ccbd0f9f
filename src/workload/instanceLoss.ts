/**
 * When an instance counts as lost under a workload. The provider's own word decides (its status
 * and interruption reason), never a dropped SSH connection alone: a loaded node or a network blip
 * drops SSH too.
 */
import type { InstanceStatus } from '../providers/sdk/types.js';

/** States a workload never asks for while its instance runs: the provider ended or stopped it. */
const LOST_STATES = new Set(['stopping', 'stopped', 'suspending', 'suspended', 'terminating', 'terminated', 'failed']);

export function instanceLost(status: Pick<InstanceStatus, 'lifecycleStatus' | 'interruption'>): boolean {
  return status.interruption !== undefined || LOST_STATES.has(status.lifecycleStatus);
}

/** A line for status and history: what the provider said happened. */
export function describeLoss(status: Pick<InstanceStatus, 'lifecycleStatus' | 'interruption' | 'messages'>): string {
  const what = status.interruption ?? status.lifecycleStatus;
  const said = status.messages.filter(Boolean).slice(-1)[0];
  return said ? `${what}: ${said}` : what;
}
