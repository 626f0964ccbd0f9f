import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRemotePath, placeEntries, planSync, resolveRemote, stateOf, type ManifestEntry, type SyncManifest } from '../../../src/sync/manifest.js';

const d = (n: string) => `sha256:${n.repeat(64).slice(0, 64)}` as const;
const file = (path: string, digest: string, mode = 0o644): ManifestEntry => ({ path, type: 'file', mode, mtime: 1, size: 10, digest: d(digest) });
const dir = (path: string): ManifestEntry => ({ path, type: 'dir', mode: 0o755, mtime: 1 });
const manifest = (entries: ManifestEntry[]): SyncManifest => ({ version: 1, roots: [{ field: 'workdir', remote: '~/w', kind: 'dir', entries }], files: entries.length, bytes: 0 });

test('remote paths resolve against the node home; ~ and absolute only', () => {
  assert.equal(resolveRemote('~/w', '/home/u'), '/home/u/w');
  assert.equal(resolveRemote('/data/x/', '/home/u'), '/data/x');
  assert.equal(checkRemotePath('/data'), undefined);
  assert.equal(checkRemotePath('~/x'), undefined);
  assert.match(checkRemotePath('data/x')!, /absolute/);
  assert.match(checkRemotePath('/a/../etc')!, /\.\./);
});

test('a fresh node gets every entry, parents first', () => {
  const placed = placeEntries(manifest([dir(''), dir('src'), file('src/a.py', 'a'), file('b', 'b')]), '/h');
  const plan = planSync(placed, undefined);
  assert.deepEqual(plan.send.map((p) => p.abs), ['/h/w', '/h/w/b', '/h/w/src', '/h/w/src/a.py']);
  assert.deepEqual(plan.remove, []);
  assert.equal(plan.sendBytes, 20);
});

test('the same manifest again sends nothing; one changed file sends only itself', () => {
  const before = placeEntries(manifest([dir(''), file('a', 'a'), file('b', 'b')]), '/h');
  assert.equal(planSync(before, stateOf(before)).send.length, 0);
  const after = placeEntries(manifest([dir(''), file('a', 'a'), file('b', 'c')]), '/h');
  const plan = planSync(after, stateOf(before));
  assert.deepEqual(plan.send.map((p) => p.abs), ['/h/w/b']);
  assert.equal(plan.sendBytes, 10);
});

test('a mode change resends; an mtime change alone does not', () => {
  const before = placeEntries(manifest([file('run.sh', 'a', 0o644)]), '/h');
  const chmod = placeEntries(manifest([file('run.sh', 'a', 0o755)]), '/h');
  assert.equal(planSync(chmod, stateOf(before)).send.length, 1);
  const touched = placeEntries(manifest([{ ...file('run.sh', 'a'), mtime: 99 }]), '/h');
  assert.equal(planSync(touched, stateOf(before)).send.length, 0);
});

test('removed paths go, topmost only; a type change removes then resends the subtree', () => {
  const before = placeEntries(manifest([dir(''), dir('old'), file('old/x', 'x'), file('keep', 'k'), file('data', 'd')]), '/h');
  const after = placeEntries(manifest([dir(''), file('keep', 'k'), dir('data'), file('data/y', 'y')]), '/h');
  const plan = planSync(after, stateOf(before));
  assert.deepEqual(plan.remove.sort(), ['/h/w/data', '/h/w/old']);
  assert.deepEqual(plan.send.map((p) => p.abs), ['/h/w/data', '/h/w/data/y']);
});
