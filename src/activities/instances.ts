/** Create, read and terminate instances through the registry: thin, idempotent, typed failures. */
import { Context } from '@temporalio/activity';
import { CloudError, InstanceNotFoundError } from '../providers/sdk/errors.js';
import { describeLoss, instanceLost } from '../workload/instanceLoss.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { Instance } from '../providers/sdk/types.js';
import { asActivityFailure, toApplicationFailure } from './failures.js';
import { heartbeatSleep } from './heartbeatSleep.js';
import type { CreateInstanceInput, InstanceLoss, InstanceRef, InstanceView } from './types.js';

export const REF_ID_TAG = 'gpuflow-ref-id';

export interface InstanceActivityDeps {
  registry: ProviderRegistry;
  /** The worker's SSH public key, injected into every instance. */
  sshPublicKey: string;
}

export function instanceActivities({ registry, sshPublicKey }: InstanceActivityDeps) {
  async function view(connection: string, instance: Instance): Promise<InstanceView> {
    const client = await registry.client(connection, instance.location);
    return { instance, pollMs: client.getInstancePollTimeMs(), provisioningTimeoutMs: registry.get(connection).provisioningTimeoutMs };
  }

  return {
    /**
     * Idempotent by refId: a retry after a lost response finds the instance the first try made
     * instead of making a second one, whether or not the provider dedupes creates itself.
     */
    async createInstance(input: CreateInstanceInput): Promise<InstanceView> {
      return asActivityFailure(async () => {
        const { offer } = input;
        const client = await registry.client(offer.connection, offer.location);
        const caps = await client.getCapabilities();
        if (!caps.includes('create-instance-idempotent')) {
          const existing = (await client.listInstances({ locations: [offer.location] })).find(
            (i) => i.refId === input.refId && i.status.lifecycleStatus !== 'terminated',
          );
          if (existing) return view(offer.connection, existing);
        }
        Context.current().log.info('creating instance', { connection: offer.connection, type: offer.type, location: offer.location, spot: offer.spot, refId: input.refId });
        const instance = await client.createInstance({
          refId: input.refId,
          name: input.name,
          location: offer.location,
          subLocation: offer.subLocation,
          instanceType: offer.type,
          publicKey: sshPublicKey,
          useSpot: offer.spot,
          tags: { ...input.tags, [REF_ID_TAG]: input.refId },
        });
        return view(offer.connection, instance);
      });
    },

    async getInstance(ref: InstanceRef): Promise<InstanceView> {
      return asActivityFailure(async () => {
        const client = await registry.client(ref.connection, ref.location);
        return view(ref.connection, await client.getInstance(ref.cloudId));
      });
    },

    /**
     * Sweeps a failed create: terminates any instance carrying this refId. A create whose response
     * was lost (timeout, 5xx after the provider acted) must not leave an orphan billing.
     */
    async terminateByRefId(input: { connection: string; location: string; refId: string }): Promise<number> {
      return asActivityFailure(async () => {
        const client = await registry.client(input.connection, input.location);
        const found = (await client.listInstances({})).filter((i) => i.refId === input.refId && i.status.lifecycleStatus !== 'terminated');
        for (const i of found) await client.terminateInstance(i.cloudId);
        if (found.length) Context.current().log.warn('terminated instance(s) left by a failed create', { refId: input.refId, count: found.length });
        return found.length;
      });
    },

    /**
     * Polls the provider at its instance poll time, heartbeating, and returns only when the
     * instance is lost under the workload (preempted, failed, stopped or ended without being
     * asked). One long activity instead of a poll per workflow timer keeps history small.
     * Transient provider errors are logged and polled through; the workflow cancels this when it
     * terminates the instance itself.
     */
    async watchInstance(ref: InstanceRef): Promise<InstanceLoss> {
      const ctx = Context.current();
      const client = await asActivityFailure(() => registry.client(ref.connection, ref.location));
      const pollMs = Math.max(200, client.getInstancePollTimeMs());
      for (;;) {
        ctx.heartbeat();
        let waitMs = pollMs;
        try {
          const inst = await client.getInstance(ref.cloudId);
          if (instanceLost(inst.status)) {
            return {
              status: inst.status.lifecycleStatus,
              ...(inst.status.interruption ? { interruption: inst.status.interruption } : {}),
              reason: describeLoss(inst.status),
              ...(inst.terminatedAt ? { providerEndedAt: inst.terminatedAt } : {}),
              detectedAt: new Date().toISOString(),
            };
          }
        } catch (e) {
          if (e instanceof InstanceNotFoundError) {
            return { status: 'terminated', reason: 'the provider no longer knows the instance', detectedAt: new Date().toISOString() };
          }
          if (e instanceof CloudError && !e.retryable) throw toApplicationFailure(e);
          ctx.log.warn('instance poll failed; polling on', { cloudId: ref.cloudId, error: (e as Error).message });
          // A rate limit asks for a longer pause than the poll interval: honour it, heartbeating.
          if (e instanceof CloudError && e.retryAfterMs !== undefined) waitMs = Math.max(pollMs, e.retryAfterMs);
        }
        await heartbeatSleep(waitMs);
      }
    },

    /** Idempotent: an instance already gone counts as terminated. Returns the final view if readable. */
    async terminateInstance(ref: InstanceRef): Promise<Instance | null> {
      return asActivityFailure(async () => {
        const client = await registry.client(ref.connection, ref.location);
        await client.terminateInstance(ref.cloudId);
        try {
          return await client.getInstance(ref.cloudId);
        } catch (e) {
          if (e instanceof InstanceNotFoundError) return null;
          throw e;
        }
      });
    },
  };
}
