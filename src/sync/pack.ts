/**
 * Client side of the sync: walks `workdir` (honouring .gitignore and .gpuflowignore at every level,
 * as git does) and each `files` source, hashes every file into the content store and stores the
 * manifest there too. What the workflow gets back is the manifest's digest and two counts.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, readlink, rename, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import ignore, { type Ignore } from 'ignore';
import { checkRemotePath, REMOTE_WORKDIR, type Digest, type ManifestEntry, type SyncManifest, type SyncRoot } from './manifest.js';
import type { ContentStore } from './store.js';

export interface SyncLimits {
  maxFiles: number;
  maxBytes: number;
}

export const DEFAULT_SYNC_LIMITS: SyncLimits = { maxFiles: 20_000, maxBytes: 2 * 1024 ** 3 };

export class SyncSourceError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'SyncSourceError';
  }
}

/** The ignore files read in every directory; `.git` itself is never shipped. */
export const IGNORE_FILES = ['.gitignore', '.gpuflowignore'];
const ALWAYS_IGNORED = new Set(['.git']);

interface Rules {
  /** Directory the rules are relative to ('' = the root). */
  base: string;
  ig: Ignore;
}

async function rulesIn(absDir: string, rel: string): Promise<Rules | undefined> {
  let text = '';
  for (const f of IGNORE_FILES) text += `${await readFile(join(absDir, f), 'utf8').catch(() => '')}\n`;
  return text.trim() ? { base: rel, ig: ignore().add(text) } : undefined;
}

/** Git's precedence: the deepest file with a matching rule decides; a negation re-includes. */
export function isIgnored(rules: Rules[], rel: string, isDir: boolean): boolean {
  let ignored = false;
  for (const r of rules) {
    const sub = r.base ? rel.slice(r.base.length + 1) : rel;
    const t = r.ig.test(isDir ? `${sub}/` : sub);
    if (t.ignored) ignored = true;
    else if (t.unignored) ignored = false;
  }
  return ignored;
}

/** A short sample that gzips to under 90 %: the file is worth compressing on the wire. */
async function sampleCompressible(abs: string, size: number): Promise<boolean> {
  if (size < 512) return true;
  const fh = await open(abs, 'r');
  try {
    const buf = Buffer.alloc(Math.min(size, 64 * 1024));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return gzipSync(buf.subarray(0, bytesRead), { level: 1 }).length < bytesRead * 0.9;
  } finally {
    await fh.close();
  }
}

async function hashFile(abs: string): Promise<Digest> {
  const h = createHash('sha256');
  for await (const c of createReadStream(abs)) h.update(c as Buffer);
  return `sha256:${h.digest('hex')}`;
}

/**
 * What the last pack on this machine hashed, by path and stat stamp (device, inode, size, mtime,
 * ctime, as git's index does), so a re-pack after one change hashes one file. A file whose stamp
 * changed is hashed again; the cache only saves work, the digest is always the content's.
 */
interface StatCache {
  old: Record<string, CachedHash>;
  get(abs: string): CachedHash | undefined;
  seen: Map<string, CachedHash>;
}
interface CachedHash {
  stamp: string;
  digest: Digest;
  compressible: boolean;
}

async function loadStatCache(file: string): Promise<StatCache> {
  let old: Record<string, CachedHash> = {};
  try {
    old = JSON.parse(await readFile(file, 'utf8')) as Record<string, CachedHash>;
  } catch {
    old = {};
  }
  return { old, get: (abs) => old[abs], seen: new Map() };
}

async function saveStatCache(file: string, cache: StatCache): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  // Other directories' entries are kept (several projects on one machine), newest first, bounded.
  const merged = Object.entries({ ...cache.old, ...Object.fromEntries(cache.seen) });
  await writeFile(tmp, JSON.stringify(Object.fromEntries(merged.slice(-200_000))), { mode: 0o600 });
  await rename(tmp, file);
}

class Budget {
  files = 0;
  bytes = 0;
  constructor(private readonly limits: SyncLimits) {}

  add(field: string, size: number): void {
    this.files++;
    this.bytes += size;
    if (this.files > this.limits.maxFiles) {
      throw new SyncSourceError(field, `more than ${this.limits.maxFiles} files to sync (syncLimits.maxFiles): list what the job does not need in .gpuflowignore, or raise syncLimits.maxFiles`);
    }
    if (this.bytes > this.limits.maxBytes) {
      throw new SyncSourceError(
        field,
        `more than ${Math.round(this.limits.maxBytes / 1024 ** 2)} MiB to sync (syncLimits.maxMiB): list data and build output in .gpuflowignore (put datasets in a volume or bucket), or raise syncLimits.maxMiB`,
      );
    }
  }
}

async function entryFor(abs: string, path: string, field: string, store: ContentStore, budget: Budget, cache: StatCache | undefined): Promise<ManifestEntry | undefined> {
  const st = await lstat(abs);
  const base = { path, mode: st.mode & 0o7777, mtime: Math.floor(st.mtimeMs / 1000) };
  if (st.isSymbolicLink()) {
    budget.add(field, 0);
    return { ...base, type: 'symlink', linkname: await readlink(abs) };
  }
  if (st.isDirectory()) return { ...base, type: 'dir' };
  if (!st.isFile()) return undefined; // sockets, fifos, devices: nothing to ship
  budget.add(field, st.size);
  const stamp = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  const known = cache?.get(abs);
  if (known && known.stamp === stamp && (await store.has(known.digest))) {
    cache!.seen.set(abs, known);
    return { ...base, type: 'file', size: st.size, digest: known.digest, compressible: known.compressible };
  }
  const digest = await hashFile(abs);
  await store.put(digest, () => createReadStream(abs));
  const compressible = await sampleCompressible(abs, st.size);
  cache?.seen.set(abs, { stamp, digest, compressible });
  return { ...base, type: 'file', size: st.size, digest, compressible };
}

async function walkDir(root: string, field: string, store: ContentStore, budget: Budget, cache: StatCache | undefined): Promise<ManifestEntry[]> {
  const out: ManifestEntry[] = [];
  const top = await entryFor(root, '', field, store, budget, cache);
  if (top) out.push(top);
  const visit = async (absDir: string, rel: string, inherited: Rules[]): Promise<void> => {
    const own = await rulesIn(absDir, rel);
    const rules = own ? [...inherited, own] : inherited;
    const names = (await readdir(absDir)).sort();
    for (const name of names) {
      if (ALWAYS_IGNORED.has(name)) continue;
      const childRel = rel ? `${rel}/${name}` : name;
      const abs = join(absDir, name);
      const st = await lstat(abs);
      if (isIgnored(rules, childRel, st.isDirectory())) continue;
      const e = await entryFor(abs, childRel, field, store, budget, cache);
      if (!e) continue;
      out.push(e);
      if (e.type === 'dir') await visit(abs, childRel, rules);
    }
  };
  await visit(root, '', []);
  return out;
}

export interface PackInput {
  workdir?: string | undefined;
  files?: Record<string, string> | undefined;
  /** Relative local paths resolve against this (default: the current directory). */
  baseDir?: string;
  limits?: Partial<SyncLimits>;
  /** A file to remember hashes in between packs (see StatCache); none: hash everything. */
  statCache?: string;
}

export interface PackedSync {
  manifest: Digest;
  files: number;
  bytes: number;
}

/** Packs `workdir` and `files` into `store`; throws SyncSourceError naming the field. */
export async function packSync(input: PackInput, store: ContentStore): Promise<PackedSync> {
  const limits = { ...DEFAULT_SYNC_LIMITS, ...input.limits };
  const budget = new Budget(limits);
  const local = (p: string) => (isAbsolute(p) ? p : resolve(input.baseDir ?? process.cwd(), p));
  const roots: SyncRoot[] = [];
  const cache = input.statCache ? await loadStatCache(input.statCache) : undefined;
  if (input.workdir !== undefined) {
    const abs = local(input.workdir);
    const st = await lstat(abs).catch(() => undefined);
    if (!st?.isDirectory()) throw new SyncSourceError('workdir', `${abs} is not a directory`);
    roots.push({ field: 'workdir', remote: REMOTE_WORKDIR, kind: 'dir', entries: await walkDir(abs, 'workdir', store, budget, cache) });
  }
  for (const [remote, src] of Object.entries(input.files ?? {})) {
    const field = `files.${remote}`;
    const bad = checkRemotePath(remote);
    if (bad) throw new SyncSourceError(field, bad);
    const abs = local(src);
    const st = await lstat(abs).catch(() => undefined);
    if (!st) throw new SyncSourceError(field, `${abs} does not exist`);
    const entries = st.isDirectory() ? await walkDir(abs, field, store, budget, cache) : [await entryFor(abs, '', field, store, budget, cache)].filter((e) => e !== undefined);
    if (!entries.length) throw new SyncSourceError(field, `${abs} is not a file, directory or symlink`);
    roots.push({ field, remote, kind: st.isDirectory() ? 'dir' : 'file', entries });
  }
  const manifest: SyncManifest = { version: 1, roots, files: budget.files, bytes: budget.bytes };
  const body = Buffer.from(JSON.stringify(manifest));
  const digest: Digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  await store.put(digest, body);
  if (cache && input.statCache) await saveStatCache(input.statCache, cache);
  return { manifest: digest, files: budget.files, bytes: budget.bytes };
}
