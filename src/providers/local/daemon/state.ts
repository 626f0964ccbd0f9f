/**
 * The daemon's durable state: one JSON file in the data dir, replaced atomically (write a temp file,
 * fsync, rename, fsync the directory), so a crash leaves either the old or the new state.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { FirewallRulesSchema, LifecycleStatusSchema, TagsSchema } from '../../sdk/types.js';

export const InstanceRecordSchema = z.object({
  id: z.string().min(1),
  refId: z.string().min(1),
  cloudCredRefId: z.string().min(1),
  name: z.string(),
  location: z.string().min(1),
  type: z.string().min(1),
  publicKey: z.string().min(1),
  spot: z.boolean(),
  tags: TagsSchema,
  firewallRules: FirewallRulesSchema,
  env: z.record(z.string(), z.string()),
  imageId: z.string().default(''),
  createdAt: z.iso.datetime(),
  status: LifecycleStatusSchema,
  messages: z.array(z.string()).default([]),
  interruption: z.enum(['preempted', 'host-failure']).optional(),
  terminatedAt: z.iso.datetime().optional(),
  /** Last port its sshd listened on (0 = never started). */
  sshPort: z.number().int().nonnegative().default(0),
  /** When a pending instance is due to boot (epoch ms). */
  bootAt: z.number().int().optional(),
  /** Authenticates the instance's calls to the metadata endpoint; absent in state written before it existed. */
  metadataToken: z.string().min(16).optional(),
});
export type InstanceRecord = z.infer<typeof InstanceRecordSchema>;

export const StateSchema = z.object({
  version: z.literal(1),
  instances: z.array(InstanceRecordSchema),
  counters: z.object({ createRequests: z.number().int().nonnegative(), createsAccepted: z.number().int().nonnegative() }),
});
export type State = z.infer<typeof StateSchema>;

export const STATE_FILE = 'state.json';

export function emptyState(): State {
  return { version: 1, instances: [], counters: { createRequests: 0, createsAccepted: 0 } };
}

export async function loadState(dataDir: string): Promise<State> {
  const file = path.join(dataDir, STATE_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw e;
  }
  const r = StateSchema.safeParse(JSON.parse(text));
  if (!r.success) {
    throw new Error(`local cloud state ${file} is invalid:\n${r.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  return r.data;
}

/** Writes snapshots one at a time; a write asked for while one runs is coalesced into the next. */
export class StateWriter {
  private running: Promise<void> = Promise.resolve();
  private pending: { snapshot: () => State; waiters: { resolve: () => void; reject: (e: unknown) => void }[] } | undefined;
  private seq = 0;

  constructor(private readonly dataDir: string) {}

  async init(): Promise<void> {
    await mkdir(this.dataDir, { recursive: true });
  }

  /** Resolves once a snapshot taken after this call is on disk. */
  save(snapshot: () => State): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.pending) {
        this.pending.snapshot = snapshot;
        this.pending.waiters.push({ resolve, reject });
        return;
      }
      const batch = { snapshot, waiters: [{ resolve, reject }] };
      this.pending = batch;
      this.running = this.running.then(async () => {
        this.pending = undefined;
        try {
          await this.write(batch.snapshot());
          for (const w of batch.waiters) w.resolve();
        } catch (e) {
          for (const w of batch.waiters) w.reject(e);
        }
      });
    });
  }

  async flush(): Promise<void> {
    await this.running;
  }

  private async write(state: State): Promise<void> {
    const file = path.join(this.dataDir, STATE_FILE);
    const tmp = `${file}.${process.pid}.${++this.seq}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify(state, null, 2)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
    try {
      const dir = await open(this.dataDir, 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch {
      // fsync of a directory is not supported everywhere; the rename is still atomic
    }
  }
}
