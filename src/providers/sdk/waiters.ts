import type { CloudInstanceReader } from './client.js';
import type { Instance, LifecycleStatus } from './types.js';

export class InstanceWaitTimeoutError extends Error {
  constructor(readonly instance: Instance, readonly desired: LifecycleStatus, timeoutMs: number) {
    super(`instance ${instance.cloudId} did not reach ${desired} within ${timeoutMs} ms (last: ${instance.status.lifecycleStatus})`);
    this.name = 'InstanceWaitTimeoutError';
  }
}

/** Polls getInstance until the status is reached; any read error is returned at once. */
export async function waitForInstanceLifecycleStatus(
  client: CloudInstanceReader,
  instance: Instance,
  desired: LifecycleStatus,
  timeoutMs: number,
  intervalMs = 2_000,
): Promise<Instance> {
  const deadline = Date.now() + timeoutMs;
  let current = instance;
  for (;;) {
    current = await client.getInstance(instance.cloudId);
    if (current.status.lifecycleStatus === desired) return current;
    if (Date.now() >= deadline) throw new InstanceWaitTimeoutError(current, desired, timeoutMs);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
