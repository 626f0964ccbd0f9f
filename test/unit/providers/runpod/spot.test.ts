/**
 * RunPod spot (interruptible pods) through the adapter and the replica: offers carry the spot
 * floor, a spot create bids the data center's current minimum bid per GPU with
 * `podRentInterruptable`, and an interruption (outbid, or the host reclaimed) shows as the
 * contract's `stopped` with interruption `preempted`, the machine gone. Plus the replica's
 * `podBidResume` and its refusal of a bid under the floor.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { z } from 'zod';
import { toDecimalString } from '../../../../src/money/money.js';
import { callRunPod, DEPLOY_SPOT_MUTATION, RunPodCredential } from '../../../../src/providers/runpod/index.js';
import type { CloudClient } from '../../../../src/providers/sdk/client.js';
import { InsufficientCapacityError, InstanceNotFoundError, type CloudError } from '../../../../src/providers/sdk/errors.js';
import { waitForInstanceLifecycleStatus } from '../../../../src/providers/sdk/waiters.js';
import { generateSshKeyPair, sshExec } from '../../../../src/ssh/sshClient.js';
import { BACKING, startBackingCloud } from '../../../replicas/backingCatalog.js';
import { startRunPodReplica, type RunPodReplicaHandle } from '../../../replicas/runpod/server.js';

describe('RunPod spot', () => {
  const apiKey = 'rpa_spot_0123456789abcdef';
  const key = generateSshKeyPair('runpod-spot');
  let backing: Awaited<ReturnType<typeof startBackingCloud>>;
  let replica: RunPodReplicaHandle;
  let client: CloudClient;
  const target = () => ({ baseUrl: replica.url, apiKey, timeoutMs: 10_000, rateLimitRetries: 0, rateLimitMaxWaitMs: 0 });

  before(async () => {
    backing = await startBackingCloud();
    replica = await startRunPodReplica({ localCloud: backing, apiKey, backing: BACKING });
    client = await new RunPodCredential({ refId: 'rp-spot', apiKey, baseUrl: replica.url, testReplica: true, instancePollMs: 300 }).makeClient('');
  });
  after(async () => {
    for (const p of await replica.admin.pods()) if (p.desiredStatus !== 'TERMINATED') await client.terminateInstance(p.id as string);
    await replica?.close();
    await backing?.close();
  });

  it('offers a spot price (the bid floor × GPUs) next to on-demand', async () => {
    const t = (await client.getInstanceTypes({ instanceTypes: ['2x_NVIDIA_GeForce_RTX_4090'] })).find((x) => x.location === 'US-TX-3')!;
    assert.equal(toDecimalString(t.basePrice!), '1.38');
    assert.equal(toDecimalString(t.spotPrice!), '0.68');
    assert.deepEqual(t.supportedUsageClasses, ['on-demand', 'spot']);
  });

  it('a spot pod bids the current floor, runs, and an outbid shows as stopped + preempted', { timeout: 60_000 }, async () => {
    const created = await client.createInstance({ refId: 'spot-1', location: 'US-TX-3', instanceType: '1x_NVIDIA_GeForce_RTX_4090', publicKey: key.publicKey, useSpot: true });
    const deploy = replica.admin.deploys().at(-1)!;
    assert.equal(deploy.mutation, 'podRentInterruptable');
    assert.equal(deploy.input.bidPerGpu, 0.34);
    assert.equal(created.spot, true);
    const running = await waitForInstanceLifecycleStatus(client, created, 'running', 30_000);
    const ssh = { host: running.publicIp, port: running.sshPort, username: running.sshUser, privateKey: key.privateKey };
    assert.equal((await sshExec(ssh, 'echo up', { timeoutMs: 10_000 })).stdout.trim(), 'up');

    // An on-demand pod of the same GPU is not touched by the spot market.
    const onDemand = await client.createInstance({ refId: 'od-1', location: 'US-TX-3', instanceType: '1x_NVIDIA_GeForce_RTX_4090', publicKey: key.publicKey });

    await replica.admin.setMinimumBid('NVIDIA GeForce RTX 4090', 0.5);
    const pre = await client.getInstance(created.cloudId);
    assert.equal(pre.status.lifecycleStatus, 'stopped');
    assert.equal(pre.status.interruption, 'preempted');
    assert.equal(pre.sshPort, 0, 'no SSH endpoint once interrupted');
    assert.equal((await client.listInstances({ instanceIds: [created.cloudId] }))[0]!.status.interruption, 'preempted');
    await assert.rejects(sshExec(ssh, 'echo up', { timeoutMs: 5_000 }), 'the machine behind the pod is gone');
    assert.notEqual((await client.getInstance(onDemand.cloudId)).status.interruption, 'preempted');

    // The offer moved with the market; the next spot create bids the new floor.
    const t = (await client.getInstanceTypes({ instanceTypes: ['1x_NVIDIA_GeForce_RTX_4090'], locations: ['US-TX-3'] }))[0]!;
    assert.equal(toDecimalString(t.spotPrice!), '0.5');

    await client.terminateInstance(created.cloudId);
    await client.terminateInstance(onDemand.cloudId);
    await assert.rejects(client.getInstance(created.cloudId), InstanceNotFoundError);
  });

  it('a host reclaimed under a spot pod preempts it too', { timeout: 60_000 }, async () => {
    const created = await client.createInstance({ refId: 'spot-2', location: 'EU-RO-1', instanceType: '1x_NVIDIA_GeForce_RTX_4090', publicKey: key.publicKey, useSpot: true });
    await waitForInstanceLifecycleStatus(client, created, 'running', 30_000);
    await replica.admin.interrupt(created.cloudId);
    const s = (await client.getInstance(created.cloudId)).status;
    assert.deepEqual([s.lifecycleStatus, s.interruption], ['stopped', 'preempted']);
    assert.ok(s.messages.some((m) => /Exited by RunPod/.test(m)));

    // RunPod's podBidResume brings it back on a new machine (the adapter does not use it; the replica keeps it faithful).
    const resume = 'mutation R($input: PodBidResumeInput!) { podBidResume(input: $input) { id desiredStatus } }';
    const out = await callRunPod(target(), 'R', resume, { input: { podId: created.cloudId, bidPerGpu: 0.6, gpuCount: 1 } }, z.object({ podBidResume: z.object({ desiredStatus: z.string() }) }), 'instance');
    assert.equal(out.podBidResume.desiredStatus, 'RUNNING');
    await waitForInstanceLifecycleStatus(client, created, 'running', 30_000);
    await client.terminateInstance(created.cloudId);
  });

  it('a bid under the floor is refused (InsufficientCapacityError: the market moved), and nothing is rented', async () => {
    const before = replica.admin.deploys().length;
    const input = { name: 'low', imageName: 'runpod/base', gpuTypeId: 'NVIDIA RTX A6000', gpuCount: 1, cloudType: 'SECURE', dataCenterId: 'US-TX-3', bidPerGpu: 0.01, ports: '22/tcp', env: [] };
    await assert.rejects(callRunPod(target(), 'GpuflowDeploySpot', DEPLOY_SPOT_MUTATION, { input }, z.unknown(), 'create'), (e: CloudError) => e instanceof InsufficientCapacityError && /below the minimum bid/.test(e.message));
    assert.equal(replica.admin.deploys().length, before);
  });
});
