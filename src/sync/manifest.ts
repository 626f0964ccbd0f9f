/**
 * What a workload ships to its node (`workdir` and `files`), as a manifest: one entry per file,
 * directory and symlink, each file named by the SHA-256 of its content. The manifest is itself a
 * blob in the content store, so the workflow carries only its digest. Pure: the diff against what
 * a node already has decides what a sync sends.
 */

/** `sha256:<64 hex>`: a blob's name in the content store. */
export type Digest = `sha256:${string}`;

export const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export interface ManifestEntry {
  /** Relative to the root, POSIX separators; '' is the root itself (a single-file root). */
  path: string;
  type: 'file' | 'dir' | 'symlink';
  /** Permission bits (0o777 plus setuid/setgid/sticky). */
  mode: number;
  /** Seconds since the epoch, kept on the node (rsync -a keeps times too); not part of the diff. */
  mtime: number;
  size?: number;
  digest?: Digest;
  /** Worth gzipping on the wire (a sample compressed well when packed). */
  compressible?: boolean;
  linkname?: string;
}

export interface SyncRoot {
  /** The spec field this root comes from, for errors: `workdir` or `files./remote/path`. */
  field: string;
  /** Where it lands on the node: an absolute path or `~/...` (the node user's home). */
  remote: string;
  kind: 'dir' | 'file';
  entries: ManifestEntry[];
}

export interface SyncManifest {
  version: 1;
  roots: SyncRoot[];
  files: number;
  bytes: number;
}

/** Where the workdir lands on the node; the job and setup run there (SkyPilot's ~/sky_workdir). */
export const REMOTE_WORKDIR = '~/gpuflow_workdir';

/** Why a `files` key is not a usable remote path, if it is not: absolute or `~/...`, no `..`. */
export function checkRemotePath(remote: string): string | undefined {
  if (!(remote.startsWith('/') || remote === '~' || remote.startsWith('~/'))) return `"${remote}" is not a remote path: use an absolute path ("/data/x") or one in the home ("~/x")`;
  if (remote.split('/').some((s) => s === '..')) return `"${remote}": remote paths may not contain ".."`;
  return undefined;
}

/** One entry at its absolute place on the node: what the node's sync state records. */
export interface PlacedEntry {
  /** Absolute path on the node. */
  abs: string;
  entry: ManifestEntry;
}

/** What makes two entries the same on the node: type, mode and content (not mtime). */
export function entryKey(e: ManifestEntry): string {
  return e.type === 'file' ? `f:${e.mode}:${e.digest}` : e.type === 'dir' ? `d:${e.mode}` : `l:${e.linkname}`;
}

/** `~/x` against the node's home; absolute paths as they are. */
export function resolveRemote(remote: string, home: string): string {
  const base = remote === '~' ? home : remote.startsWith('~/') ? `${home.replace(/\/+$/, '')}/${remote.slice(2)}` : remote;
  return base.replace(/\/+$/, '') || '/';
}

export function placeEntries(manifest: SyncManifest, home: string): PlacedEntry[] {
  const out: PlacedEntry[] = [];
  for (const root of manifest.roots) {
    const base = resolveRemote(root.remote, home);
    for (const entry of root.entries) out.push({ abs: entry.path ? `${base}/${entry.path}` : base, entry });
  }
  return out;
}

/** The node's record of what the last sync put there: absolute path → entry key. */
export type NodeSyncState = Record<string, string>;

export function stateOf(placed: PlacedEntry[]): NodeSyncState {
  const s: NodeSyncState = {};
  for (const p of placed) s[p.abs] = entryKey(p.entry);
  return s;
}

export interface SyncPlan {
  /** Entries to write, parents before children. */
  send: PlacedEntry[];
  /** Paths the previous sync wrote that are gone or changed type: removed first, deepest first. */
  remove: string[];
  sendBytes: number;
}

/**
 * What to send to a node that holds `previous` (undefined: nothing, a fresh instance). A file is
 * sent when its content or mode differs; a path whose type changed is removed, then sent.
 */
export function planSync(placed: PlacedEntry[], previous: NodeSyncState | undefined): SyncPlan {
  const prev = previous ?? {};
  const wanted = new Map(placed.map((p) => [p.abs, p]));
  const remove: string[] = [];
  for (const [abs, key] of Object.entries(prev)) {
    const next = wanted.get(abs);
    if (!next || next.entry.type !== typeOfKey(key)) remove.push(abs);
  }
  // Children before parents, so removing a parent never races its own children.
  remove.sort((a, b) => b.length - a.length || (a < b ? 1 : -1));
  // A removed directory takes its children with it: list only the topmost.
  const removed = new Set<string>();
  const topmost = [...remove].sort().filter((abs) => {
    for (const r of removed) if (abs.startsWith(`${r}/`)) return false;
    removed.add(abs);
    return true;
  });
  const send = placed.filter((p) => prev[p.abs] !== entryKey(p.entry) || topmost.some((r) => p.abs === r || p.abs.startsWith(`${r}/`)));
  send.sort((a, b) => (a.abs < b.abs ? -1 : a.abs > b.abs ? 1 : 0));
  return { send, remove: topmost.sort((a, b) => b.length - a.length), sendBytes: send.reduce((n, p) => n + (p.entry.type === 'file' ? (p.entry.size ?? 0) : 0), 0) };
}

function typeOfKey(key: string): ManifestEntry['type'] {
  return key.startsWith('f:') ? 'file' : key.startsWith('d:') ? 'dir' : 'symlink';
}
