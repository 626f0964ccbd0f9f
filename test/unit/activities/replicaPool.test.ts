import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ReplicaPool } from '../../../src/activities/replicaPool.js';

it('picks the pooled replica with the fewest in flight; skips tried and ejected ones', () => {
  const pool = new ReplicaPool();
  pool.setPool([{ id: 'a', target: 'h:1' }, { id: 'b', target: 'h:2' }]);
  const endA = pool.begin(pool.pick(new Set(), 0)!.id);
  assert.equal(pool.pick(new Set(), 0)!.id, 'b');
  assert.equal(pool.pick(new Set(['b']), 0)!.id, 'a');
  pool.eject('b', 1_000);
  assert.equal(pool.pick(new Set(), 500)!.id, 'a', 'b is ejected');
  assert.equal(pool.pick(new Set(['a']), 500)!.id, 'b', 'an ejected replica is still better than none');
  assert.equal(pool.pick(new Set(), 1_000)!.id, 'b', 'the ejection ends');
  endA();
  endA();
  assert.equal(pool.inFlight('a'), 0, 'ending twice counts once');
});

it('a replica out of the pool takes no new request but its requests in flight are counted until they end', () => {
  const pool = new ReplicaPool();
  pool.setPool([{ id: 'a', target: 'h:1' }, { id: 'b', target: 'h:2' }]);
  const end = pool.begin('a');
  pool.setPool([{ id: 'b', target: 'h:2' }]);
  assert.equal(pool.inFlight('a'), 1);
  assert.equal(pool.pooledCount(), 1);
  for (let i = 0; i < 5; i++) assert.equal(pool.pick(new Set(), 0)!.id, 'b');
  assert.equal(pool.totalInFlight(), 1);
  end();
  assert.equal(pool.inFlight('a'), 0);
  pool.setPool([]);
  assert.equal(pool.pick(new Set(), 0), undefined);
});

it('a replica that moved is pooled at its new target', () => {
  const pool = new ReplicaPool();
  pool.setPool([{ id: 'a', target: 'h:1' }]);
  pool.eject('a', 10_000);
  pool.setPool([{ id: 'a', target: 'h2:1' }]);
  assert.deepEqual(pool.pick(new Set(), 0), { id: 'a', target: 'h2:1' });
});
