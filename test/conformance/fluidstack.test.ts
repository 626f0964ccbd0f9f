/**
 * The conformance suite against the FluidStack adapter and two replica regions of FluidStack's
 * API (each region is its own host and project), whose instances are real local cloud sshd
 * instances. The client is the all-regions one (makeClient("")), so the locational listing checks
 * see both regions.
 *
 *   node --import tsx --test test/conformance/fluidstack.test.ts
 */
import { randomBytes } from 'node:crypto';
import { FluidstackCredential } from '../../src/providers/fluidstack/index.js';
import { BACKING } from '../replicas/backingCatalog.js';
import { FLUIDSTACK_TEST_PRICES } from '../replicas/fluidstack/catalog.js';
import { startFluidstackReplica } from '../replicas/fluidstack/server.js';
import { useReplicaOnBackingCloud } from './replicaClouds.js';
import { runConformanceSuite } from './suite.js';

const apiToken = `fs_${randomBytes(16).toString('hex')}`;
const regions = useReplicaOnBackingCloud(async (localCloud) => {
  const fi = await startFluidstackReplica({ localCloud, apiToken, region: 'finland-1', backing: BACKING });
  const us = await startFluidstackReplica({ localCloud, apiToken, region: 'us-east-1', backing: BACKING });
  return { fi, us, close: async () => void (await Promise.all([fi.close(), us.close()])) };
});

runConformanceSuite({
  name: 'fluidstack',
  credential: () =>
    new FluidstackCredential({
      refId: 'conformance-fluidstack',
      apiToken,
      regions: [
        { name: 'finland-1', projectId: regions().fi.projectId, country: 'FI', url: regions().fi.url },
        { name: 'us-east-1', projectId: regions().us.projectId, country: 'US', url: regions().us.url },
      ],
      prices: FLUIDSTACK_TEST_PRICES,
      testReplica: true,
      instancePollMs: 500,
    }),
  stableIds: ['finland-1-noSub-h100-hgx-80gb.8x', 'us-east-1-noSub-l40s-pcie-48gb.1x'],
  sshTimeoutMs: 60_000,
});
