/** All activities a gpuflow worker registers, built from its dependencies. */
import type { ProviderRegistry } from '../providers/registry.js';
import { budgetActivities } from '../budget/activities.js';
import { planCandidatesActivity } from './catalog.js';
import { catalogSyncActivities } from '../catalog/sync/activities.js';
import { instanceActivities } from './instances.js';
import { keptAlive } from './keepAlive.js';
import { serviceActivities } from './service.js';
import { serviceProxyActivities } from './serviceProxy.js';
import { scaleScheduleActivities } from './scaleSchedules.js';
import { setupActivities } from './setup.js';
import { sshActivities } from './ssh.js';
import { syncActivities } from '../sync/activities.js';
import type { LogStore } from '../logs/store.js';
import type { CatalogContentStore } from '../catalog/sync/contentStore.js';
import { watchdogActivities } from './watchdog.js';
import { watchdogLeaseActivities } from './watchdogLease.js';

export interface ActivityDeps {
  registry: ProviderRegistry;
  sshKey: { privateKey: string; publicKey: string };
  /** The log store job output is shipped to (see src/logs). */
  logs?: { store: LogStore; maxAttemptBytes: number };
  /** Where synced catalogs are kept (default: GPUFLOW_CATALOG_DIR, else $GPUFLOW_HOME/catalogs). */
  catalogs?: CatalogContentStore;
}

export function createActivities(deps: ActivityDeps) {
  return keptAlive({
    planCandidates: planCandidatesActivity(deps.registry, deps.catalogs ? { contents: deps.catalogs } : {}),
    ...instanceActivities({ registry: deps.registry, sshPublicKey: deps.sshKey.publicKey }),
    ...sshActivities({ registry: deps.registry, sshPrivateKey: deps.sshKey.privateKey, ...(deps.logs ? { logs: deps.logs } : {}) }),
    ...syncActivities({ registry: deps.registry, sshPrivateKey: deps.sshKey.privateKey }),
    ...setupActivities({ registry: deps.registry, sshPrivateKey: deps.sshKey.privateKey }),
    ...watchdogActivities({ registry: deps.registry, sshPrivateKey: deps.sshKey.privateKey }),
    ...watchdogLeaseActivities({ registry: deps.registry, sshPrivateKey: deps.sshKey.privateKey }),
    ...serviceActivities({ registry: deps.registry, sshPrivateKey: deps.sshKey.privateKey }),
    ...serviceProxyActivities(),
    ...scaleScheduleActivities(),
    ...budgetActivities({ registry: deps.registry }),
    ...catalogSyncActivities({ registry: deps.registry, ...(deps.catalogs ? { contents: deps.catalogs } : {}) }),
  });
}

export type Activities = ReturnType<typeof createActivities>;
