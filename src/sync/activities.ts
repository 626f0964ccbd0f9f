/** The sync activity: brings a node to a manifest from the content store, over one SSH connection. */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { instanceAccess, type SshActivityDeps } from '../activities/ssh.js';
import type { InstanceRef } from '../activities/types.js';
import { SshSession } from '../ssh/sshClient.js';
import type { Digest } from './manifest.js';
import { SyncFailedError, syncToNode, type SyncStats } from './nodeSync.js';
import { BlobNotFoundError, openContentStore, type ContentStore } from './store.js';

export interface SyncFilesInput {
  ref: InstanceRef;
  manifest: string;
}

export function syncActivities(deps: SshActivityDeps & { store?: () => ContentStore }) {
  const store = deps.store ?? (() => openContentStore());
  return {
    /** Idempotent: the node's record says what it has, so a retry sends only what is still missing. */
    async syncFiles(input: SyncFilesInput): Promise<SyncStats> {
      const ctx = Context.current();
      const { target } = await instanceAccess(deps, input.ref);
      const session = new SshSession(target);
      try {
        return await syncToNode((command, opts) => session.exec(command, opts), store(), input.manifest as Digest, {
          onProgress: (wireBytes) => ctx.heartbeat({ phase: 'sync', wireBytes }),
          signal: ctx.cancellationSignal,
        });
      } catch (e) {
        if (e instanceof BlobNotFoundError) throw ApplicationFailure.nonRetryable(e.message, 'BlobNotFound');
        if (e instanceof SyncFailedError) throw ApplicationFailure.retryable(e.message, 'SyncFailed');
        throw e;
      } finally {
        session.close();
      }
    },
  };
}
