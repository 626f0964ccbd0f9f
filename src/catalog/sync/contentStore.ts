/**
 * The catalog content store: each connection's synced catalog (its entries) and the change records
 * of a large sync, as blobs named by the SHA-256 of their canonical serialization, outside workflow
 * history. The catalog entity (`catalog:<connection>`) holds only the digest of its current catalog
 * and the digests its recent syncs still reference; the sync activity writes blobs, routing and the
 * CLI read them, and the sync activity collects the ones nothing references any more.
 *
 * A local directory, `GPUFLOW_CATALOG_DIR`, else `$GPUFLOW_HOME/catalogs` (like the log store and the
 * content store: the worker and the CLI on one machine share it; several machines need a shared
 * directory). Layout: `<root>/<connection>/<64 hex>.json.gz`, each file written under a temporary
 * name and renamed into place, so a reader never sees half of one. Every read checks the digest.
 *
 * Node only (fs, crypto, zlib): activities and clients use it, workflow code never does.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { gpuflowHome } from '../../config/paths.js';
import { pathSegment } from '../../activities/node.js';
import type { CatalogChange } from './diff.js';
import { stableJson, type CatalogEntry } from './snapshot.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export const CATALOG_DIGEST_RE = /^sha256:[0-9a-f]{64}$/;
const FORMAT = 'gpuflow-catalog/1';

/** What one blob of a catalog holds: the synced entries (the time and sequence of a sync live in the entity). */
export interface CatalogContent {
  connection: string;
  provider: string;
  /** Sorted by ID; removed entries included (with removedAt). */
  entries: CatalogEntry[];
}

export interface SerializedBlob {
  /** `sha256:<hex>` of `bytes`. */
  digest: string;
  bytes: Buffer;
}

function serialized(value: unknown): SerializedBlob {
  const bytes = Buffer.from(stableJson(value), 'utf8');
  return { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, bytes };
}

/** The canonical serialization of a catalog and its digest: equal catalogs, equal digests. */
export function serializeCatalog(c: CatalogContent): SerializedBlob {
  return serialized({ format: FORMAT, connection: c.connection, provider: c.provider, entries: c.entries });
}

export function serializeChanges(connection: string, changes: readonly CatalogChange[]): SerializedBlob {
  return serialized({ format: FORMAT, connection, changes });
}

export class CatalogBlobNotFoundError extends Error {
  constructor(connection: string, digest: string, location: string) {
    super(
      `catalog ${digest} of connection ${connection} is not in the catalog store at ${location}: the worker that synced it writes there; ` +
        'run the CLI on the worker’s machine or point GPUFLOW_CATALOG_DIR at the same (shared) directory',
    );
    this.name = 'CatalogBlobNotFoundError';
  }
}

export class CatalogContentStore {
  readonly location: string;

  constructor(root: string) {
    this.location = resolve(root);
  }

  private dir(connection: string): string {
    return join(this.location, pathSegment(connection));
  }

  private pathOf(connection: string, digest: string): string {
    if (!CATALOG_DIGEST_RE.test(digest)) throw new Error(`not a catalog digest: ${JSON.stringify(digest)}`);
    return join(this.dir(connection), `${digest.slice(7)}.json.gz`);
  }

  /**
   * Stores a blob (idempotent). A blob already there gets its time refreshed, so a collection that
   * runs meanwhile keeps it (it is about to be referenced again).
   */
  async put(connection: string, blob: SerializedBlob): Promise<void> {
    const path = this.pathOf(connection, blob.digest);
    const now = new Date();
    const exists = await utimes(path, now, now).then(
      () => true,
      () => false,
    );
    if (exists) return;
    await mkdir(this.dir(connection), { recursive: true });
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, await gzipAsync(blob.bytes, { level: 1 }), { mode: 0o600 });
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  private async read(connection: string, digest: string): Promise<unknown> {
    let gz: Buffer;
    try {
      gz = await readFile(this.pathOf(connection, digest));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new CatalogBlobNotFoundError(connection, digest, this.location);
      throw e;
    }
    const bytes = await gunzipAsync(gz);
    const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (actual !== digest) throw new Error(`catalog blob ${digest} of ${connection} in ${this.location} is corrupt (its content hashes to ${actual}): delete it and run \`gpuflow catalog sync --connection ${connection}\``);
    return JSON.parse(bytes.toString('utf8'));
  }

  async getCatalog(connection: string, digest: string): Promise<CatalogContent> {
    const v = (await this.read(connection, digest)) as CatalogContent & { format?: string };
    if (v.format !== FORMAT || !Array.isArray(v.entries)) throw new Error(`catalog blob ${digest} of ${connection} is not a ${FORMAT} catalog`);
    return { connection: v.connection, provider: v.provider, entries: v.entries };
  }

  async getChanges(connection: string, digest: string): Promise<CatalogChange[]> {
    const v = (await this.read(connection, digest)) as { format?: string; changes?: CatalogChange[] };
    if (v.format !== FORMAT || !Array.isArray(v.changes)) throw new Error(`catalog blob ${digest} of ${connection} is not a ${FORMAT} change list`);
    return v.changes;
  }

  /**
   * Deletes the connection's blobs that `keep` does not name and that are older than `graceMs`
   * (a sync that wrote one a moment ago may be about to reference it). Returns the deleted digests.
   */
  async collect(connection: string, keep: ReadonlySet<string>, graceMs: number, now = Date.now()): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.dir(connection));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const gone: string[] = [];
    for (const name of names) {
      const m = /^([0-9a-f]{64})\.json\.gz(\.[0-9a-f]+\.tmp)?$/.exec(name);
      if (!m) continue;
      const digest = `sha256:${m[1]}`;
      if (!m[2] && keep.has(digest)) continue;
      const path = join(this.dir(connection), name);
      const st = await stat(path).catch(() => undefined);
      if (!st || now - st.mtimeMs < graceMs) continue;
      await rm(path, { force: true });
      if (!m[2]) gone.push(digest);
    }
    return gone;
  }

  /** Bytes and blobs a connection's directory holds now (for `catalog status` and the tests). */
  async usage(connection: string): Promise<{ blobs: number; bytes: number }> {
    let names: string[];
    try {
      names = await readdir(this.dir(connection));
    } catch {
      return { blobs: 0, bytes: 0 };
    }
    let bytes = 0;
    let blobs = 0;
    for (const n of names) {
      if (!/^[0-9a-f]{64}\.json\.gz$/.test(n)) continue;
      const st = await stat(join(this.dir(connection), n)).catch(() => undefined);
      if (st) {
        blobs++;
        bytes += st.size;
      }
    }
    return { blobs, bytes };
  }
}

/** The directory of GPUFLOW_CATALOG_DIR, else `$GPUFLOW_HOME/catalogs`. Worker and CLI must name the same one. */
export function catalogStoreDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.GPUFLOW_CATALOG_DIR?.trim() || join(gpuflowHome(), 'catalogs');
}

export function openCatalogContentStore(env: NodeJS.ProcessEnv = process.env): CatalogContentStore {
  return new CatalogContentStore(catalogStoreDir(env));
}
