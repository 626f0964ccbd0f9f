/**
 * The conformance suite against the AWS EC2 adapter (@aws-sdk/client-ec2, unmodified) and the EC2
 * replica (SigV4 verified, EC2's throttling buckets on), whose instances are real local cloud
 * sshd instances.
 *
 *   node --import tsx --test test/conformance/aws.test.ts
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsCredential } from '../../src/providers/aws/index.js';
import { writeReplicaCatalog } from '../replicas/aws/catalog.js';
import { startAwsReplica } from '../replicas/aws/server.js';
import { BACKING } from '../replicas/backingCatalog.js';
import { useReplicaOnBackingCloud } from './replicaClouds.js';
import { runConformanceSuite } from './suite.js';

const keys = { accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64') };
const catalogFile = writeReplicaCatalog(mkdtempSync(join(tmpdir(), 'gpuflow-aws-conformance-')));
const replica = useReplicaOnBackingCloud((localCloud) => startAwsReplica({ localCloud, ...keys, backing: BACKING }));

runConformanceSuite({
  name: 'aws',
  credential: () => new AwsCredential({ refId: 'conformance-aws', regions: ['us-east-1', 'eu-central-1'], keys, endpoint: replica().url, catalogFile, testReplica: true, instancePollMs: 500 }),
  location: 'us-east-1',
  // <region>-<zone>-<type>: one offer per zone (spot prices and capacity differ by zone).
  stableIds: ['us-east-1-us-east-1a-p5.48xlarge', 'us-east-1-us-east-1b-g6.xlarge', 'us-east-1-us-east-1c-g5.xlarge'],
  sshTimeoutMs: 60_000,
  // At the replica: one launch with the refId as ClientToken, identity tags, the imported key, the DLAMI.
  afterCreate: (instance) => {
    const launch = replica().admin.launches().at(-1)!;
    assert.equal(launch.ClientToken, instance.refId);
    assert.equal(launch.Action, 'RunInstances');
    assert.match(launch.ImageId!, /^ami-/);
    assert.equal(launch.MinCount, '1');
    const tags = replica().admin.instance(instance.cloudId)!.tags;
    assert.equal(tags.get('gpuflow-ref-id'), instance.refId);
    assert.equal(tags.get('gpuflow-cloud-cred-ref-id'), 'conformance-aws');
    assert.ok(replica().admin.keyPairs('us-east-1').some((k) => k.name === launch.KeyName));
  },
});
