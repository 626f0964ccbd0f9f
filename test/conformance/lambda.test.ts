/**
 * The conformance suite against the Lambda adapter and a stateful replica of Lambda's API whose
 * instances are real local cloud sshd instances, with Lambda's documented rate limits in force.
 *
 *   node --import tsx --test test/conformance/lambda.test.ts
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { LambdaCredential } from '../../src/providers/lambda/index.js';
import { startLocalCloud, type LocalCloudHandle } from '../../src/providers/local/index.js';
import { BACKING, BACKING_CATALOG } from '../replicas/backingCatalog.js';
import { startLambdaReplica, type LambdaReplicaHandle } from '../replicas/lambda/server.js';
import { runConformanceSuite } from './suite.js';

const apiKey = `secret_${randomBytes(12).toString('hex')}`;
let cloud: LocalCloudHandle | undefined;
let replica: LambdaReplicaHandle | undefined;
let dir: string | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gpuflow-conformance-lambda-'));
  cloud = await startLocalCloud({ dataDir: join(dir, 'data'), token: randomBytes(16).toString('hex'), port: 0, catalog: BACKING_CATALOG });
  replica = await startLambdaReplica({ localCloud: { url: cloud.url, token: cloud.token }, apiKey, backing: BACKING });
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
  name: 'lambda',
  credential: () => new LambdaCredential({ refId: 'conformance-lambda', apiKey, baseUrl: replica!.url, testReplica: true, instancePollMs: 500 }),
  stableIds: ['us-west-1-noSub-gpu_8x_a100_80gb_sxm4', 'us-east-1-noSub-gpu_1x_a10'],
  sshTimeoutMs: 60_000,
});
