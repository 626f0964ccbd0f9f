/** All activities a gpuflow worker registers, built from its dependencies. */
import type { ProviderRegistry } from '../providers/registry.js';
import { budgetActivities } from './budget.js';
import { planCandidatesActivity } from './catalog.js';
import { catalogSyncActivities } from './catalogSync.js';
import { instanceActivities } from './instances.js';
import { serviceActivities } from './service.js';
import { sshActivities } from './ssh.js';
import { watchdogActivities } from './watchdog.js';
import { watchdogLeaseActivities } from './watchdogLease.js';

export interface ActivityDeps {
  registry: ProviderRegistry;
  sshKey: { privateKey: string; publicKey: string };
}

export function createActivities(deps: ActivityDeps) {
  return {
    planCandidates: planCandidatesActivity(deps.registry),
    ...instanceActivities({ registry: deps.registry, sshPublicKey: deps.sshKey.publicKey }),
    ...sshActivities({ registry: deps.registry, sshPrivateKey: deps.sshKey.privateKey }),
    ...watchdogActivities({ registry: deps.registry, sshPrivateKey: deps.sshKey.privateKey }),
    ...watchdogLeaseActivities({ registry: deps.registry, sshPrivateKey: deps.sshKey.privateKey }),
    ...serviceActivities({ registry: deps.registry, sshPrivateKey: deps.sshKey.privateKey }),
    ...budgetActivities({ registry: deps.registry }),
    ...catalogSyncActivities({ registry: deps.registry }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
