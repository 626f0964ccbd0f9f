/**
 * The conformance suite against the Shadeform adapter and a stateful replica of Shadeform's API
 * whose instances are real local cloud sshd instances.
 *
 *   node --import tsx --test test/conformance/shadeform.test.ts
 */
import { randomBytes } from 'node:crypto';
import { ShadeformCredential } from '../../src/providers/shadeform/index.js';
import { BACKING } from '../replicas/backingCatalog.js';
import { startShadeformReplica } from '../replicas/shadeform/server.js';
import { useReplicaOnBackingCloud } from './replicaClouds.js';
import { runConformanceSuite } from './suite.js';

const apiKey = `sf_${randomBytes(12).toString('hex')}`;
const replica = useReplicaOnBackingCloud((localCloud) => startShadeformReplica({ localCloud, apiKey, backing: BACKING }));

runConformanceSuite({
  name: 'shadeform',
  credential: () => new ShadeformCredential({ refId: 'conformance-shadeform', apiKey, baseUrl: replica().url, testReplica: true, instancePollMs: 500 }),
  stableIds: ['verda_B200_helsinki-finland-5', 'massedcompute_L40_desmoines-usa-1'],
  sshTimeoutMs: 60_000,
});
