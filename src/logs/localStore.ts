/** The log store as a local directory (the default: `$GPUFLOW_HOME/logs`, shared by worker and CLI on one machine). */
import { randomUUID } from 'node:crypto';
import { link, mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathSegment } from '../activities/node.js';
import { chunkName, decodeChunk, encodeChunk, parseChunkName, type AttemptLogMeta, type LogStore, type StoredChunk } from './store.js';

const META = 'meta.json';

function isCode(e: unknown, code: string): boolean {
  return (e as NodeJS.ErrnoException | undefined)?.code === code;
}

export class LocalLogStore implements LogStore {
  constructor(readonly root: string) {}

  get location(): string {
    return this.root;
  }

  private dir(workloadId: string, label?: string): string {
    return label === undefined ? join(this.root, pathSegment(workloadId)) : join(this.root, pathSegment(workloadId), pathSegment(label));
  }

  async putChunk(workloadId: string, label: string, chunk: StoredChunk): Promise<boolean> {
    const dir = this.dir(workloadId, label);
    await mkdir(dir, { recursive: true });
    // Written whole under a temporary name, then linked into place: link(2) fails if the name
    // exists, so the first complete chunk at an offset wins and a reader never sees half of one.
    const tmp = join(dir, `.tmp-${randomUUID()}`);
    await writeFile(tmp, encodeChunk(chunk));
    try {
      await link(tmp, join(dir, chunkName(chunk.start)));
      return true;
    } catch (e) {
      if (isCode(e, 'EEXIST')) return false;
      throw e;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  async listChunks(workloadId: string, label: string): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.dir(workloadId, label));
    } catch (e) {
      if (isCode(e, 'ENOENT')) return [];
      throw e;
    }
    return names
      .map(parseChunkName)
      .filter((s): s is number => s !== undefined)
      .sort((a, b) => a - b);
  }

  async getChunk(workloadId: string, label: string, start: number): Promise<StoredChunk> {
    return decodeChunk(await readFile(join(this.dir(workloadId, label), chunkName(start))));
  }

  async deleteChunk(workloadId: string, label: string, start: number): Promise<void> {
    await rm(join(this.dir(workloadId, label), chunkName(start)), { force: true });
  }

  async putMeta(meta: AttemptLogMeta): Promise<void> {
    const dir = this.dir(meta.workloadId, meta.label);
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.meta-${randomUUID()}`);
    await writeFile(tmp, JSON.stringify(meta, null, 2));
    await rename(tmp, join(dir, META));
  }

  async listAttempts(workloadId: string): Promise<AttemptLogMeta[]> {
    let labels: string[];
    try {
      labels = await readdir(this.dir(workloadId));
    } catch (e) {
      if (isCode(e, 'ENOENT')) return [];
      throw e;
    }
    const metas: AttemptLogMeta[] = [];
    for (const label of labels) {
      try {
        metas.push(JSON.parse(await readFile(join(this.dir(workloadId, label), META), 'utf8')) as AttemptLogMeta);
      } catch (e) {
        if (!isCode(e, 'ENOENT') && !isCode(e, 'ENOTDIR')) throw e;
      }
    }
    return metas.sort((a, b) => a.attempt - b.attempt || a.startedAt.localeCompare(b.startedAt));
  }

  async listWorkloads(): Promise<string[]> {
    const out: string[] = [];
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch (e) {
      if (isCode(e, 'ENOENT')) return [];
      throw e;
    }
    for (const n of names) {
      const attempts = await this.listAttempts(n).catch(() => []);
      const id = attempts[0]?.workloadId;
      if (id) out.push(id);
    }
    return out;
  }

  async deleteWorkload(workloadId: string): Promise<void> {
    await rm(this.dir(workloadId), { recursive: true, force: true });
  }
}
