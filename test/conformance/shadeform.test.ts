/**
 * The conformance suite against the Shadeform adapter and a stateful replica of Shadeform's API
 * whose instances are real local cloud sshd instances.
 *
 *   node --import tsx --test test/conformance/shadeform.test.ts
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { startLocalCloud, type LocalCloudHandle } from '../../src/providers/local/index.js';
import { ShadeformCredential } from '../../src/providers/shadeform/index.js';
import { BACKING, BACKING_CATALOG } from '../replicas/backingCatalog.js';
import { startShadeformReplica, type ShadeformReplicaHandle } from '../replicas/shadeform/server.js';
import { runConformanceSuite } from './suite.js';

const apiKey = `sf_${randomBytes(12).toString('hex')}`;
let cloud: LocalCloudHandle | undefined;
let replica: ShadeformReplicaHandle | undefined;
let dir: string | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gpuflow-conformance-shadeform-'));
  cloud = await startLocalCloud({ dataDir: join(dir, 'data'), token: randomBytes(16).toString('hex'), port: 0, catalog: BACKING_CATALOG });
  replica = await startShadeformReplica({ localCloud: { url: cloud.url, token: cloud.token }, apiKey, backing: BACKING });
});

after(async () => {
  try {
    await replica?.close();
    await cloud?.close();
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

runConformanceSuite({
  name: 'shadeform',
  credential: () => new ShadeformCredential({ refId: 'conformance-shadeform', apiKey, baseUrl: replica!.url, testReplica: true, instancePollMs: 500 }),
  stableIds: ['verda_B200_helsinki-finland-5', 'massedcompute_L40_desmoines-usa-1'],
  sshTimeoutMs: 60_000,
});
