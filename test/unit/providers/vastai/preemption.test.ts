/**
 * Interruptible (bid) instances on Vast.ai through the adapter and the replica: create bids the
 * ask's min_bid, an outbid instance is paused (Vast keeps it, stopped) and shows as the contract's
 * stopped + interruption `preempted`, and it resumes when its bid wins again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CloudClient } from '../../../../src/providers/sdk/client.js';
import { waitForInstanceLifecycleStatus } from '../../../../src/providers/sdk/waiters.js';
import { VastaiCredential } from '../../../../src/providers/vastai/index.js';
import { generateSshKeyPair, sshExec } from '../../../../src/ssh/sshClient.js';
import { BACKING, startBackingCloud } from '../../../replicas/backingCatalog.js';
import { startVastaiReplica, type VastaiReplicaHandle } from '../../../replicas/vastai/server.js';

describe('Vast.ai interruptible instances', () => {
  const apiKey = 'f'.repeat(64);
  let backing: Awaited<ReturnType<typeof startBackingCloud>>;
  let replica: VastaiReplicaHandle;
  let client: CloudClient;
  const key = generateSshKeyPair('vast-preemption-test');

  before(async () => {
    backing = await startBackingCloud();
    replica = await startVastaiReplica({ localCloud: backing, apiKey, backing: BACKING, rateLimits: false });
    client = await new VastaiCredential({ refId: 'vast-spot', apiKey, baseUrl: replica.url, testReplica: true, instancePollMs: 200 }).makeClient('');
  });
  after(async () => {
    await replica?.close();
    await backing?.close();
  });

  it('the catalog offers spot at the cheapest min_bid', async () => {
    const [t] = await client.getInstanceTypes({ locations: ['US'], instanceTypes: ['1x-RTX_4090-24G'] });
    assert.deepEqual(t.supportedUsageClasses, ['on-demand', 'spot']);
    assert.deepEqual(t.spotPrice, { amount: 18, currency: 'USD', scale: 2 });
    assert.deepEqual(t.basePrice, { amount: 35, currency: 'USD', scale: 2 });
  });

  it('bids min_bid; outbid → stopped + preempted; resumes running when the bid wins again', async () => {
    const cheapestBidAsk = replica.admin.askOf(10411); // Texas RTX 4090, min_bid 0.18
    const inst = await client.createInstance({ refId: 'spot-1', location: 'US', instanceType: '1x-RTX_4090-24G', publicKey: key.publicKey, useSpot: true });
    try {
      const create = replica.admin.creates().at(-1)!;
      assert.equal(create.price, 0.18, 'the bid is the cheapest ask’s min_bid');
      assert.equal(create.ask_id, cheapestBidAsk);
      assert.equal(inst.spot, true);
      const running = await waitForInstanceLifecycleStatus(client, inst, 'running', 15_000, 100);
      const target = { host: running.publicIp, port: running.sshPort, username: running.sshUser, privateKey: key.privateKey };
      assert.equal((await sshExec(target, 'echo up', { timeoutMs: 15_000 })).stdout.trim(), 'up');

      replica.admin.outbid(inst.cloudId);
      const preempted = await waitForInstanceLifecycleStatus(client, inst, 'stopped', 15_000, 100);
      assert.equal(preempted.status.interruption, 'preempted');
      assert.equal(preempted.spot, true);
      assert.match(preempted.status.messages.join(' '), /outbid/);
      const seen = (await replica.admin.instances()).find((i) => String(i.id) === inst.cloudId)!;
      assert.equal(seen.actual_status, 'stopped', 'Vast pauses an outbid instance; it is not destroyed');
      assert.equal(seen.intended_status, 'running');
      assert.equal((await client.listInstances({ instanceIds: [inst.cloudId] }))[0].status.interruption, 'preempted', 'listing says so too');

      replica.admin.endOutbid(inst.cloudId);
      const back = await waitForInstanceLifecycleStatus(client, inst, 'running', 15_000, 100);
      assert.equal(back.status.interruption, undefined);
      await sshExec({ ...target, port: back.sshPort }, 'echo again', { timeoutMs: 15_000 });
    } finally {
      await client.terminateInstance(inst.cloudId);
    }
  });

  it('the replica refuses a bid below the ask’s min_bid with 400 invalid_price', async () => {
    const ask = replica.admin.askOf(20877)!; // the German RTX 4090, min_bid 0.20
    const res = await fetch(`${replica.url}/api/v0/asks/${ask}/`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ image: 'vastai/base-image:@vastai-automatic-tag', price: 0.05 }),
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_price');
  });
});
