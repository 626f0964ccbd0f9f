/**
 * The conformance suite against the Lambda adapter and a stateful replica of Lambda's API whose
 * instances are real local cloud sshd instances, with Lambda's documented rate limits in force.
 *
 *   node --import tsx --test test/conformance/lambda.test.ts
 */
import { randomBytes } from 'node:crypto';
import { LambdaCredential } from '../../src/providers/lambda/index.js';
import { BACKING } from '../replicas/backingCatalog.js';
import { startLambdaReplica } from '../replicas/lambda/server.js';
import { useReplicaOnBackingCloud } from './replicaClouds.js';
import { runConformanceSuite } from './suite.js';

const apiKey = `secret_${randomBytes(12).toString('hex')}`;
const replica = useReplicaOnBackingCloud((localCloud) => startLambdaReplica({ localCloud, apiKey, backing: BACKING }));

runConformanceSuite({
  name: 'lambda',
  credential: () => new LambdaCredential({ refId: 'conformance-lambda', apiKey, baseUrl: replica().url, testReplica: true, instancePollMs: 500 }),
  stableIds: ['us-west-1-noSub-gpu_8x_a100_80gb_sxm4', 'us-east-1-noSub-gpu_1x_a10'],
  sshTimeoutMs: 60_000,
});
