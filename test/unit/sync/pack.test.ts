import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, lstatSync, readlinkSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadManifest, syncToNode } from '../../../src/sync/nodeSync.js';
import { packSync, SyncSourceError } from '../../../src/sync/pack.js';
import { LocalDirStore } from '../../../src/sync/store.js';
import { localExec } from './localExec.js';

const root = mkdtempSync(join(tmpdir(), 'gpuflow-sync-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function fresh() {
  const base = join(root, String(n++));
  const src = join(base, 'src');
  const home = join(base, 'node-home');
  mkdirSync(src, { recursive: true });
  mkdirSync(home, { recursive: true });
  return { src, home, store: new LocalDirStore(join(base, 'store')) };
}
const write = (p: string, text: string | Buffer) => {
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
};

test('.gitignore and .gpuflowignore are honoured at every level, with negation; .git never ships', async () => {
  const { src, store } = fresh();
  write(join(src, '.gitignore'), '*.log\nbuild/\n!keep.log\n');
  write(join(src, '.gpuflowignore'), 'data/raw\n');
  write(join(src, 'train.py'), 'print(1)\n');
  write(join(src, 'a.log'), 'x');
  write(join(src, 'keep.log'), 'x');
  write(join(src, 'build/out.bin'), 'x');
  write(join(src, 'data/raw/big.bin'), 'x');
  write(join(src, 'data/small.csv'), 'x');
  write(join(src, 'sub/.gitignore'), 'secret.txt\n');
  write(join(src, 'sub/secret.txt'), 'x');
  write(join(src, 'sub/ok.txt'), 'x');
  write(join(src, 'other/secret.txt'), 'x');
  write(join(src, '.git/HEAD'), 'ref: x');
  const packed = await packSync({ workdir: src }, store);
  const m = await loadManifest(store, packed.manifest);
  const paths = m.roots[0]!.entries.map((e) => e.path).sort();
  assert.deepEqual(paths, ['', '.gitignore', '.gpuflowignore', 'data', 'data/small.csv', 'keep.log', 'other', 'other/secret.txt', 'sub', 'sub/.gitignore', 'sub/ok.txt', 'train.py']);
  assert.equal(packed.files, 8);
});

test('limits fail naming the field and the setting', async () => {
  const { src, store } = fresh();
  for (let i = 0; i < 5; i++) write(join(src, `f${i}`), 'abc');
  await assert.rejects(packSync({ workdir: src, limits: { maxFiles: 4 } }, store), (e: Error) => e instanceof SyncSourceError && /^workdir: more than 4 files.*syncLimits\.maxFiles/.test(e.message));
  await assert.rejects(packSync({ files: { '/data/in': src }, limits: { maxBytes: 10 } }, store), (e: Error) => /^files\.\/data\/in: more than 0 MiB.*syncLimits\.maxMiB/.test(e.message));
  await assert.rejects(packSync({ workdir: join(src, 'f0') }, store), /workdir: .* is not a directory/);
  await assert.rejects(packSync({ files: { 'rel/x': src } }, store), /files\.rel\/x: .*absolute/);
  await assert.rejects(packSync({ files: { '/x': join(src, 'missing') } }, store), /files\.\/x: .* does not exist/);
});

test('a synced node has the content, modes, symlinks and times; a rerun sends nothing; one change sends one file', async () => {
  const { src, home, store } = fresh();
  const extra = join(src, '..', 'extra.txt');
  write(extra, 'extra\n');
  write(join(src, 'run.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(join(src, 'run.sh'), 0o750);
  write(join(src, 'data/blob.bin'), randomBytes(200_000));
  write(join(src, 'data/text.txt'), 'hello\n'.repeat(10_000));
  symlinkSync('data/text.txt', join(src, 'link'));
  const packed = await packSync({ workdir: src, files: { '~/inputs/extra.txt': extra, [`${home}/abs-dir`]: join(src, 'data') } }, store);
  const exec = localExec(home);
  const first = await syncToNode(exec, store, packed.manifest);
  const w = join(home, 'gpuflow_workdir');
  assert.equal(readFileSync(join(w, 'run.sh'), 'utf8'), '#!/bin/sh\necho hi\n');
  assert.equal(lstatSync(join(w, 'run.sh')).mode & 0o777, 0o750);
  assert.equal(readlinkSync(join(w, 'link')), 'data/text.txt');
  assert.deepEqual(readFileSync(join(w, 'data/blob.bin')), readFileSync(join(src, 'data/blob.bin')));
  assert.equal(readFileSync(join(home, 'inputs/extra.txt'), 'utf8'), 'extra\n');
  assert.equal(readFileSync(join(home, 'abs-dir/text.txt'), 'utf8'), 'hello\n'.repeat(10_000));
  assert.equal(Math.floor(lstatSync(join(w, 'run.sh')).mtimeMs / 1000), Math.floor(lstatSync(join(src, 'run.sh')).mtimeMs / 1000));
  assert.equal(first.sentBytes, packed.bytes);

  const again = await syncToNode(exec, store, packed.manifest);
  assert.equal(again.sentEntries, 0);
  assert.equal(again.wireBytes, 0);

  write(join(src, 'data/text.txt'), 'changed\n');
  rmSync(join(src, 'run.sh'));
  const repacked = await packSync({ workdir: src, files: { '~/inputs/extra.txt': extra, [`${home}/abs-dir`]: join(src, 'data') } }, store);
  const delta = await syncToNode(exec, store, repacked.manifest);
  // The text file in both roots; nothing else.
  assert.equal(delta.sentEntries, 2);
  assert.equal(delta.sentBytes, 2 * 'changed\n'.length);
  assert.equal(delta.removed, 1);
  assert.equal(existsSync(join(w, 'run.sh')), false);
  assert.equal(readFileSync(join(w, 'data/text.txt'), 'utf8'), 'changed\n');
});

test('random data goes uncompressed, text gzipped', async () => {
  const { src, home, store } = fresh();
  write(join(src, 'r.bin'), randomBytes(500_000));
  const r = await syncToNode(localExec(home), store, (await packSync({ workdir: src }, store)).manifest);
  assert.equal(r.compressed, false);
  const t = fresh();
  write(join(t.src, 't.txt'), 'abc\n'.repeat(200_000));
  const s = await syncToNode(localExec(t.home), t.store, (await packSync({ workdir: t.src }, t.store)).manifest);
  assert.equal(s.compressed, true);
  assert.ok(s.wireBytes < 100_000, `gzipped text on the wire: ${s.wireBytes} bytes`);
});

test('a re-pack with the stat cache gives the same digests, and sees a changed file', async () => {
  const { src, store } = fresh();
  const cache = join(src, '..', 'hashes.json');
  write(join(src, 'a.txt'), 'one');
  write(join(src, 'b.txt'), 'two');
  const first = await packSync({ workdir: src, statCache: cache }, store);
  const again = await packSync({ workdir: src, statCache: cache }, store);
  assert.equal(again.manifest, first.manifest);
  assert.equal(JSON.parse(readFileSync(cache, 'utf8'))[join(src, 'a.txt')].digest, (await loadManifest(store, first.manifest)).roots[0]!.entries.find((e) => e.path === 'a.txt')!.digest);
  write(join(src, 'a.txt'), 'ONE'); // same size, new content
  const changed = await packSync({ workdir: src, statCache: cache }, store);
  assert.notEqual(changed.manifest, first.manifest);
  const m = await loadManifest(store, changed.manifest);
  const a = m.roots[0]!.entries.find((e) => e.path === 'a.txt')!;
  assert.equal(readFileSync(join(store.location, 'sha256', a.digest!.slice(7, 9), a.digest!.slice(7)), 'utf8'), 'ONE');
});
