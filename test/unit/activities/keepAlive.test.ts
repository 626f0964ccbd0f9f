import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { KEEP_ALIVE_INTERVAL_MS, keptAlive } from '../../../src/activities/keepAlive.js';

describe('activity keep-alive', () => {
  it('heartbeats while the activity waits on a call that never heartbeats', async () => {
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const { slowCall } = keptAlive({ slowCall: async (ms: number) => (await sleep(ms), 'done') });
    assert.equal(await env.run(slowCall, 3.5 * KEEP_ALIVE_INTERVAL_MS), 'done');
    assert.ok(beats.length >= 4, `${beats.length} heartbeats in 3.5 intervals`);
    const after = beats.length;
    await sleep(2 * KEEP_ALIVE_INTERVAL_MS);
    assert.equal(beats.length, after, 'no heartbeat once the activity has settled');
  });

  it("repeats the details the activity last sent (or the previous attempt's), not undefined", async () => {
    const env = new MockActivityEnvironment({ heartbeatDetails: { failures: 2 } });
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const { supervise } = keptAlive({
      supervise: async () => {
        await sleep(1.5 * KEEP_ALIVE_INTERVAL_MS);
        Context.current().heartbeat({ failures: 3 });
        await sleep(1.5 * KEEP_ALIVE_INTERVAL_MS);
      },
    });
    await env.run(supervise);
    assert.deepEqual(beats[0], { failures: 2 });
    const i = beats.findIndex((b) => (b as { failures: number }).failures === 3);
    assert.ok(i > 0);
    assert.ok(beats.slice(i).every((b) => (b as { failures: number }).failures === 3), JSON.stringify(beats));
    assert.ok(beats.length - i >= 2, 'the beat went on with the new details');
  });
});
