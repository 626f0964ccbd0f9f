/**
 * Malformed provider answers, from each adapter's replica: a 200 carrying an HTML error page,
 * truncated JSON, and JSON whose every value has the wrong type. Each must surface as the typed,
 * retryable ServiceUnavailableError (never a SyntaxError or TypeError), and a create whose answer
 * was spoiled (the provider did make the instance) must still leave exactly one instance once the
 * create activity is retried, and none after terminate.
 *
 * RunPod (GraphQL: one path, the operation in the body) and AWS EC2 (the Query API: one path, the
 * `Action` in the body, XML through the unmodified SDK) are spoiled per operation. For XML "wrong
 * types" means numbers as words, booleans as yes/no, and strings (ids, timestamps) as numbers.
 * GCP goes through the unmodified @google-cloud/compute (REST) and is spoiled per Compute method.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { instanceActivities } from '../../../src/activities/instances.js';
import type { InstanceView } from '../../../src/activities/types.js';
import type { Connection } from '../../../src/config/connections.js';
import { ProviderRegistry } from '../../../src/providers/registry.js';
import { ServiceUnavailableError } from '../../../src/providers/sdk/errors.js';
import type { Offer } from '../../../src/routing/offer.js';
import { loadOrCreateSshKey } from '../../../src/ssh/keyStore.js';
import { writeSecretFile } from '../../helpers/providerWorker.js';
import { startBackingCloud, BACKING } from '../../replicas/backingCatalog.js';
import { FLUIDSTACK_TEST_PRICES } from '../../replicas/fluidstack/catalog.js';
import { startFluidstackReplica } from '../../replicas/fluidstack/server.js';
import { startLambdaReplica } from '../../replicas/lambda/server.js';
import { startShadeformReplica } from '../../replicas/shadeform/server.js';
import { startSpoilingProxy, type MalformFault, type MalformKind } from '../../replicas/shared.js';
import { startVastaiReplica } from '../../replicas/vastai/server.js';
import { writeReplicaCatalog } from '../../replicas/aws/catalog.js';
import { startAwsReplica } from '../../replicas/aws/server.js';
import { startRunPodReplica } from '../../replicas/runpod/server.js';
import { writeGcpReplicaCatalog } from '../../replicas/gcp/catalog.js';
import { startGcpReplica } from '../../replicas/gcp/server.js';
import { testServiceAccount } from '../../replicas/gcp/serviceAccount.js';

const KINDS: MalformKind[] = ['html', 'truncated', 'wrong-types'];
const apiKey = `key_${randomBytes(16).toString('hex')}`;

/** The calls a test spoils: the catalog read, the instance list and the create. */
type Call = 'catalog' | 'list' | 'create';
type Match = Pick<MalformFault, 'methods' | 'pathPattern'>;
interface Replica {
  close(): Promise<void>;
}
interface Started {
  replica: Replica;
  connection: (dir: string) => Connection;
  /** Spoils the next answer to `call`. */
  spoilNext: (call: Call, kind: MalformKind) => void;
}
interface Case {
  name: string;
  start(localCloud: { url: string; token: string }, dir: string): Promise<Started>;
}

/** For REST replicas: the call's method and path, as a malform fault matches them. */
function byPath(admin: { malformNext(f: MalformFault): void }, matches: Record<Call, Match>): Started['spoilNext'] {
  return (call, kind) => admin.malformNext({ count: 1, kind, ...matches[call] });
}

const CASES: Case[] = [
  {
    // The local cloud has no replica (the daemon is the real API): a proxy in front of it spoils answers.
    name: 'local',
    start: async (localCloud) => {
      const proxy = await startSpoilingProxy(localCloud.url);
      return {
        replica: proxy,
        connection: (dir) => ({ kind: 'local', name: 'local', url: proxy.url, tokenFile: writeSecretFile(dir, 'local', localCloud.token) }),
        spoilNext: byPath(proxy, {
          catalog: { methods: ['GET'], pathPattern: /^\/v1\/instance-types$/ },
          list: { methods: ['GET'], pathPattern: /^\/v1\/instances$/ },
          create: { methods: ['POST'], pathPattern: /^\/v1\/instances$/ },
        }),
      };
    },
  },
  {
    name: 'lambda',
    start: async (localCloud) => {
      const replica = await startLambdaReplica({ localCloud, apiKey, backing: BACKING });
      replica.admin.setRateLimits(false);
      return {
        replica,
        connection: (dir) => ({ kind: 'lambda', name: 'lambda', apiKeyFile: writeSecretFile(dir, 'lambda', apiKey), baseUrl: replica.url, testReplica: true }),
        spoilNext: byPath(replica.admin, {
          catalog: { methods: ['GET'], pathPattern: /\/instance-types$/ },
          list: { methods: ['GET'], pathPattern: /\/api\/v1\/instances$/ },
          create: { methods: ['POST'], pathPattern: /\/instance-operations\/launch$/ },
        }),
      };
    },
  },
  {
    name: 'shadeform',
    start: async (localCloud) => {
      const replica = await startShadeformReplica({ localCloud, apiKey, backing: BACKING });
      return {
        replica,
        connection: (dir) => ({ kind: 'shadeform', name: 'shadeform', apiKeyFile: writeSecretFile(dir, 'shadeform', apiKey), baseUrl: replica.url, testReplica: true }),
        spoilNext: byPath(replica.admin, {
          catalog: { methods: ['GET'], pathPattern: /\/instances\/types$/ },
          list: { methods: ['GET'], pathPattern: /\/v1\/instances$/ },
          create: { methods: ['POST'], pathPattern: /\/instances\/create$/ },
        }),
      };
    },
  },
  {
    name: 'vastai',
    start: async (localCloud) => {
      const replica = await startVastaiReplica({ localCloud, apiKey, backing: BACKING });
      replica.admin.setRateLimits(false);
      return {
        replica,
        connection: (dir) => ({ kind: 'vastai', name: 'vastai', apiKeyFile: writeSecretFile(dir, 'vastai', apiKey), baseUrl: replica.url, testReplica: true }),
        spoilNext: byPath(replica.admin, {
          catalog: { methods: ['POST'], pathPattern: /\/bundles\/?$/ },
          list: { methods: ['GET'], pathPattern: /\/api\/v1\/instances\/?$/ },
          create: { methods: ['PUT'], pathPattern: /\/asks\/[^/]+\/?$/ },
        }),
      };
    },
  },
  {
    name: 'fluidstack',
    start: async (localCloud) => {
      const replica = await startFluidstackReplica({ localCloud, apiToken: apiKey, region: 'finland-1', backing: BACKING });
      return {
        replica,
        connection: (dir) => ({
          kind: 'fluidstack',
          name: 'fluidstack',
          apiKeyFile: writeSecretFile(dir, 'fluidstack', apiKey),
          regions: [{ name: 'finland-1', projectId: replica.projectId, country: 'FIN', url: replica.url }],
          prices: structuredClone(FLUIDSTACK_TEST_PRICES),
          testReplica: true,
        }),
        spoilNext: byPath(replica.admin, {
          catalog: { methods: ['GET'], pathPattern: /\/instance-types$/ },
          list: { methods: ['GET'], pathPattern: /\/instances$/ },
          create: { methods: ['POST'], pathPattern: /\/instances$/ },
        }),
      };
    },
  },
  {
    name: 'runpod',
    start: async (localCloud) => {
      const replica = await startRunPodReplica({ localCloud, apiKey, backing: BACKING });
      const operations: Record<Call, string> = { catalog: 'GpuflowCatalog', list: 'GpuflowPods', create: 'GpuflowDeploy' };
      return {
        replica,
        connection: (dir) => ({ kind: 'runpod', name: 'runpod', apiKeyFile: writeSecretFile(dir, 'runpod', apiKey), baseUrl: replica.url, testReplica: true }),
        spoilNext: (call, kind) => replica.admin.malformNext({ count: 1, kind, operation: operations[call] }),
      };
    },
  },
  {
    name: 'aws',
    start: async (localCloud, dir) => {
      const keys = { accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64') };
      const replica = await startAwsReplica({ localCloud, ...keys, backing: BACKING });
      const catalogFile = writeReplicaCatalog(dir);
      const actions: Record<Call, string> = { catalog: 'DescribeInstanceTypes', list: 'DescribeInstances', create: 'RunInstances' };
      return {
        replica,
        connection: (d) => ({ kind: 'aws', name: 'aws', regions: ['us-east-1'], endpoint: replica.url, catalogFile, apiKeyFile: writeSecretFile(d, 'aws', JSON.stringify(keys)), testReplica: true }),
        spoilNext: (call, kind) => replica.admin.malformNext({ count: 1, kind, action: actions[call] }),
      };
    },
  },
  {
    name: 'gcp',
    start: async (localCloud, dir) => {
      const sa = testServiceAccount();
      const replica = await startGcpReplica({ localCloud, project: sa.key.project_id, serviceAccount: { email: sa.key.client_email, keyId: sa.key.private_key_id, publicKey: sa.publicKey }, backing: BACKING });
      const catalogFile = writeGcpReplicaCatalog(dir);
      const methods: Record<Call, string> = { catalog: 'machineTypes.list', list: 'instances.aggregatedList', create: 'instances.insert' };
      return {
        replica,
        connection: (d) => ({ kind: 'gcp', name: 'gcp', regions: ['us-central1'], endpoint: replica.url, catalogFile, apiKeyFile: writeSecretFile(d, 'gcp', JSON.stringify(sa.key)), testReplica: true }),
        spoilNext: (call, kind) => replica.admin.malformNext({ count: 1, kind, method: methods[call] }),
      };
    },
  },
];

function assertTypedRetryable(e: unknown, what: string): true {
  assert.ok(e instanceof ServiceUnavailableError, `${what}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
  return true;
}

for (const c of CASES) {
  describe(`malformed answers from the ${c.name} replica`, () => {
    let backing: Awaited<ReturnType<typeof startBackingCloud>>;
    let replica: Replica;
    let registry: ProviderRegistry;
    let connection: (dir: string) => Connection;
    let spoilNext: Started['spoilNext'];
    let dir: string;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), `gpuflow-malformed-${c.name}-`));
      backing = await startBackingCloud();
      const started = await c.start({ url: backing.url, token: backing.token }, dir);
      replica = started.replica;
      connection = started.connection;
      spoilNext = started.spoilNext;
    });
    after(async () => {
      await replica?.close();
      await backing?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    for (const kind of KINDS) {
      it(`${kind}: reads fail with ServiceUnavailableError, a spoiled create leaves exactly one instance`, { timeout: 60_000 }, async () => {
        // A fresh client, so the catalog is read (not cached) and spoiled.
        registry = ProviderRegistry.fromConnections([connection(dir)]);
        const client = await registry.client(c.name);
        spoilNext('catalog', kind);
        await assert.rejects(client.getInstanceTypes({}), (e) => assertTypedRetryable(e, 'getInstanceTypes'));
        if (kind !== 'wrong-types') {
          // (An empty list has no value to be of the wrong type.)
          spoilNext('list', kind);
          await assert.rejects(client.listInstances({}), (e) => assertTypedRetryable(e, 'listInstances'));
        }

        const type = (await client.getInstanceTypes({})).find((t) => t.isAvailable);
        assert.ok(type, 'an available instance type');
        const offer = { connection: c.name, location: type.location, subLocation: type.subLocation, type: type.type, spot: false } as Offer;
        const refId = `malformed-${kind}-${randomBytes(3).toString('hex')}`;
        const { createInstance, terminateInstance } = instanceActivities({ registry, sshPublicKey: loadOrCreateSshKey(join(dir, `key-${kind}`)).publicKey });
        const input = { offer, refId, name: refId, tags: { 'gpuflow-workload': refId } };

        spoilNext('create', kind);
        await assert.rejects(new MockActivityEnvironment().run(createInstance, input), (e) => {
          assert.ok(e instanceof ApplicationFailure, String(e));
          assert.equal(e.type, 'ServiceUnavailableError', e.message);
          assert.equal(e.nonRetryable, false);
          return true;
        });
        // The activity's retry finds what the spoiled create made instead of making another.
        const view = (await new MockActivityEnvironment({ attempt: 2 }).run(createInstance, input)) as InstanceView;
        const mine = (await client.listInstances({})).filter((i) => i.refId === refId && i.status.lifecycleStatus !== 'terminated');
        assert.deepEqual(mine.map((i) => i.cloudId), [view.instance.cloudId], 'exactly one instance for the refId');
        await new MockActivityEnvironment().run(terminateInstance, { connection: c.name, cloudId: view.instance.cloudId, location: view.instance.location });
        const left = (await client.listInstances({})).filter((i) => i.refId === refId && !['terminated', 'terminating'].includes(i.status.lifecycleStatus));
        assert.deepEqual(left, [], 'no orphan');
      });
    }
  });
}
