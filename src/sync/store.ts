/**
 * The content store: blobs named by their SHA-256, written by the client that packs a workdir and
 * read by the worker that syncs it to a node (and by a recovery on a new instance, long after the
 * client is gone). A local directory by default; the interface is what an S3-compatible bucket
 * needs (has / put / get by key), so one can be added behind `GPUFLOW_STORE=s3://...`.
 */
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { gpuflowHome } from '../config/paths.js';
import { DIGEST_RE, type Digest } from './manifest.js';

export interface ContentStore {
  /** Where it is, for messages (a path or a URL; never a credential). */
  readonly location: string;
  has(digest: Digest): Promise<boolean>;
  /** Stores `data` under `digest`; the caller computed the digest. Idempotent. */
  put(digest: Digest, data: Buffer | (() => Readable)): Promise<void>;
  get(digest: Digest): Promise<Readable>;
  getBuffer(digest: Digest): Promise<Buffer>;
}

export class BlobNotFoundError extends Error {
  constructor(digest: string, location: string) {
    super(`blob ${digest} is not in the content store at ${location}: the worker must read the store the client packed into (GPUFLOW_STORE)`);
    this.name = 'BlobNotFoundError';
  }
}

/** Blobs as files under `<root>/sha256/<2 hex>/<64 hex>`, written to a temp name and renamed (atomic). */
export class LocalDirStore implements ContentStore {
  readonly location: string;

  constructor(root: string) {
    this.location = resolve(root);
  }

  private pathOf(digest: Digest): string {
    if (!DIGEST_RE.test(digest)) throw new Error(`not a content digest: ${JSON.stringify(digest)}`);
    const hex = digest.slice(7);
    return join(this.location, 'sha256', hex.slice(0, 2), hex);
  }

  async has(digest: Digest): Promise<boolean> {
    return stat(this.pathOf(digest)).then(
      () => true,
      () => false,
    );
  }

  async put(digest: Digest, data: Buffer | (() => Readable)): Promise<void> {
    const path = this.pathOf(digest);
    if (await this.has(digest)) return;
    await mkdir(join(path, '..'), { recursive: true });
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      if (Buffer.isBuffer(data)) await writeFile(tmp, data, { mode: 0o600 });
      else await pipeline(data(), createWriteStream(tmp, { mode: 0o600 }));
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async get(digest: Digest): Promise<Readable> {
    if (!(await this.has(digest))) throw new BlobNotFoundError(digest, this.location);
    return createReadStream(this.pathOf(digest));
  }

  async getBuffer(digest: Digest): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of await this.get(digest)) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }
}

/**
 * The store named by `GPUFLOW_STORE` (a directory), else `~/.gpuflow/store`. Client and worker
 * must name the same one.
 */
export function openContentStore(spec: string | undefined = process.env.GPUFLOW_STORE): ContentStore {
  const where = spec?.trim() || join(gpuflowHome(), 'store');
  if (/^s3:\/\//i.test(where)) {
    throw new Error(`GPUFLOW_STORE=${where}: S3-compatible stores are not built yet; use a directory the client and worker share`);
  }
  return new LocalDirStore(where.replace(/^file:\/\//, ''));
}
