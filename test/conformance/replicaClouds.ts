/**
 * Setup shared by the conformance files of the public-API adapters: a replica of the provider's
 * API whose instances are real sshd instances of a local cloud (the backing catalog), started in
 * `before` and stopped in `after`.
 */
import { after, before } from 'node:test';
import { startBackingCloud } from '../replicas/backingCatalog.js';

/**
 * Registers the hooks; returns a getter, since the replica only exists once `before` has run.
 * `startReplica` gets the backing cloud's URL and token.
 */
export function useReplicaOnBackingCloud<R extends { close(): Promise<void> }>(startReplica: (localCloud: { url: string; token: string }) => Promise<R>): () => R {
  let backing: Awaited<ReturnType<typeof startBackingCloud>> | undefined;
  let replica: R | undefined;

  before(async () => {
    backing = await startBackingCloud();
    replica = await startReplica({ url: backing.url, token: backing.token });
  });

  after(async () => {
    // The replica first: its instances live on the backing cloud.
    try {
      await replica?.close();
    } finally {
      await backing?.close();
    }
  });

  return () => replica!;
}
