/**
 * Worker side of the sync: brings a node to a manifest from the content store over one SSH
 * connection. The node keeps a record of what the last sync wrote (~/.gpuflow/sync/state.json), so
 * a rerun sends nothing and a changed file sends only itself; a new instance has no record and gets
 * everything, from the store. What changed goes as one tar stream (gzip when the content
 * compresses) into `tar -x` on the node, which keeps modes, symlinks and times.
 */
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import type { ExecOptions, ExecResult } from '../ssh/sshClient.js';
import { placeEntries, planSync, stateOf, type Digest, type NodeSyncState, type PlacedEntry, type SyncManifest } from './manifest.js';
import type { ContentStore } from './store.js';

export type NodeExec = (command: string, opts: ExecOptions) => Promise<ExecResult>;

export const NODE_SYNC_STATE = '$HOME/.gpuflow/sync/state.json';

export interface SyncStats {
  manifest: Digest;
  files: number;
  bytes: number;
  /** Entries (files, directories, symlinks) written this time, and the file bytes among them. */
  sentEntries: number;
  sentBytes: number;
  /** Bytes that went over the wire (the tar stream, compressed or not). */
  wireBytes: number;
  removed: number;
  compressed: boolean;
  ms: number;
}

export class SyncFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SyncFailedError';
  }
}

export async function loadManifest(store: ContentStore, digest: Digest): Promise<SyncManifest> {
  const m = JSON.parse((await store.getBuffer(digest)).toString('utf8')) as SyncManifest;
  if (m.version !== 1 || !Array.isArray(m.roots)) throw new SyncFailedError(`manifest ${digest} is not a gpuflow sync manifest (version ${String(m.version)})`);
  return m;
}

function tarStream(send: PlacedEntry[], store: ContentStore): tar.Pack {
  const pack = tar.pack();
  void (async () => {
    for (const { abs, entry } of send) {
      const name = abs.replace(/^\/+/, '');
      const base = { mode: entry.mode, mtime: new Date(entry.mtime * 1000) };
      if (entry.type === 'dir') pack.entry({ ...base, name: `${name}/`, type: 'directory' });
      else if (entry.type === 'symlink') pack.entry({ ...base, name, type: 'symlink', linkname: entry.linkname ?? '' });
      else {
        const sink = pack.entry({ ...base, name, type: 'file', size: entry.size ?? 0 });
        await pipeline(await store.get(entry.digest!), sink);
      }
    }
    pack.finalize();
  })().catch((e: unknown) => pack.destroy(e as Error));
  return pack;
}

/** Brings the node to `digest`'s manifest. `onProgress` sees the wire bytes so far (heartbeats). */
export async function syncToNode(exec: NodeExec, store: ContentStore, digest: Digest, opts: { onProgress?: (wireBytes: number) => void; signal?: AbortSignal } = {}): Promise<SyncStats> {
  const started = Date.now();
  const manifest = await loadManifest(store, digest);
  const signal = opts.signal;
  const read = await exec(`printf '%s\\n' "$HOME"; cat "${NODE_SYNC_STATE}" 2>/dev/null || true`, { timeoutMs: 60_000, signal });
  if (read.code !== 0) throw new SyncFailedError(`reading the node's sync state failed (exit ${read.code}): ${read.stderr.trim().slice(0, 300)}`);
  const nl = read.stdout.indexOf('\n');
  const home = read.stdout.slice(0, nl).trim();
  if (!home.startsWith('/')) throw new SyncFailedError(`the node's $HOME is not an absolute path (${JSON.stringify(home.slice(0, 100))})`);
  let previous: NodeSyncState | undefined;
  try {
    const text = read.stdout.slice(nl + 1).trim();
    if (text) previous = JSON.parse(text) as NodeSyncState;
  } catch {
    previous = undefined; // a torn record: resend everything
  }
  const placed = placeEntries(manifest, home);
  const plan = planSync(placed, previous);

  if (plan.remove.length) {
    const r = await exec(`xargs -0 rm -rf --`, { stdin: `${plan.remove.join('\0')}\0`, timeoutMs: 120_000, signal });
    if (r.code !== 0) throw new SyncFailedError(`removing stale paths on the node failed: ${r.stderr.trim().slice(0, 300)}`);
  }
  let wireBytes = 0;
  const fileBytes = plan.sendBytes;
  const compressibleBytes = plan.send.reduce((n, p) => n + (p.entry.type === 'file' && p.entry.compressible ? (p.entry.size ?? 0) : 0), 0);
  // Random or already-compressed data (checkpoints, parquet, images) only costs CPU to gzip.
  const compressed = compressibleBytes * 2 > fileBytes;
  if (plan.send.length) {
    // Counts in the transform, not with a 'data' listener: that would start the flow before the
    // SSH channel is there to take it, and lose the archive's first bytes.
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        wireBytes += chunk.length;
        opts.onProgress?.(wireBytes);
        done(null, chunk);
      },
    });
    const source = tarStream(plan.send, store);
    const piped = compressed ? source.pipe(createGzip({ level: 1 })).pipe(counter) : source.pipe(counter);
    source.on('error', (e) => counter.destroy(e));
    const timeoutMs = 120_000 + Math.ceil(fileBytes / (256 * 1024)) * 1000; // a floor of 256 KiB/s
    const r = await exec(`tar -x${compressed ? 'z' : ''}pf - -C / --no-same-owner`, { stdin: piped, timeoutMs, signal, maxOutputChars: 4000 });
    if (r.code !== 0) throw new SyncFailedError(`writing files on the node failed (tar exit ${r.code}): ${r.stderr.trim().slice(0, 500)}`);
  }
  const state = JSON.stringify(stateOf(placed));
  const w = await exec(`set -e; mkdir -p "$HOME/.gpuflow/sync"; cat > "${NODE_SYNC_STATE}.tmp"; mv "${NODE_SYNC_STATE}.tmp" "${NODE_SYNC_STATE}"`, { stdin: state, timeoutMs: 60_000, signal });
  if (w.code !== 0) throw new SyncFailedError(`recording the sync on the node failed: ${w.stderr.trim().slice(0, 300)}`);
  return {
    manifest: digest,
    files: manifest.files,
    bytes: manifest.bytes,
    sentEntries: plan.send.length,
    sentBytes: fileBytes,
    wireBytes,
    removed: plan.remove.length,
    compressed,
    ms: Date.now() - started,
  };
}

