/**
 * The log pipeline without a cloud: the node's runner in a real bash (stamping, masking), the
 * shipper reading a real `output` file through readOutputCommand into a LocalLogStore (chunking,
 * resuming from the offset, racing shippers, the size limit), the reader (offsets, --tail, --since,
 * --attempt, following across attempts) and retention.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { envFileContent, jobDir, jobScript, launchCommand, pathSegment, pollCommand, standardJobEnv } from '../../../src/activities/node.js';
import { LocalLogStore } from '../../../src/logs/localStore.js';
import { parseOutputRead, readOutputCommand, SECRET_NAMES_VAR } from '../../../src/logs/nodeOutput.js';
import { readStored, workloadLogs, type WorkloadLogView } from '../../../src/logs/reader.js';
import { maskRecords, parseRecords, type LogLine } from '../../../src/logs/records.js';
import { pruneLogs } from '../../../src/logs/retention.js';
import { logSettingsFromEnv } from '../../../src/logs/settings.js';
import { LogShipper, type OutputReader } from '../../../src/logs/shipper.js';
import { attemptLabel, endOfChain } from '../../../src/logs/store.js';

const sh = promisify(execFile);
const SECRET = 'hf_s3cr3t-VALUE-4242';

function bashReader(dir: string): OutputReader {
  return async (offset, maxBytes) => parseOutputRead((await sh('bash', ['-c', readOutputCommand(dir, offset, maxBytes)], { maxBuffer: 64 << 20 })).stdout);
}

async function collect(it: AsyncIterable<LogLine>): Promise<LogLine[]> {
  const out: LogLine[] = [];
  for await (const l of it) out.push(l);
  return out;
}

function record(i: number, stream = 'o', time = `2026-12-03T10:00:${String(i % 60).padStart(2, '0')}.000000Z`): string {
  return `${time} ${stream} line ${i}\n`;
}

describe('the node runner', () => {
  let home: string;
  const id = 'logs-unit-1';
  before(() => (home = mkdtempSync(join(tmpdir(), 'gpuflow-logs-home-'))));
  after(() => rmSync(home, { recursive: true, force: true }));

  it('stamps stdout and stderr line by line, masks secret values, splits endless lines', async () => {
    const d = join(home, '.gpuflow', 'jobs', pathSegment(id));
    mkdirSync(d, { recursive: true });
    const command = [
      'echo "out one"',
      'echo "err one" >&2',
      `echo "token=$HF_TOKEN and again $HF_TOKEN"`,
      'printf "%9000s" x | tr " " y',
      'echo',
      'printf "no newline at the end"',
    ].join('\n');
    writeFileSync(join(d, 'job.sh'), jobScript(command, undefined, []));
    writeFileSync(join(d, 'env'), envFileContent({ ...standardJobEnv(id), [SECRET_NAMES_VAR]: 'HF_TOKEN', HF_TOKEN: SECRET }));
    const env = { PATH: '/usr/bin:/bin', HOME: home };
    assert.equal((await sh('bash', ['-c', launchCommand(id)], { env })).stdout.trim(), 'STARTED');
    const deadline = Date.now() + 30_000;
    while (!(await sh('bash', ['-c', pollCommand(id)], { env })).stdout.startsWith('EXIT')) {
      assert.ok(Date.now() < deadline, 'the job to exit');
      await new Promise((r) => setTimeout(r, 50));
    }
    const output = readFileSync(join(d, 'output'), 'utf8');
    const log = readFileSync(join(d, 'log'), 'utf8');
    for (const f of [output, log]) assert.ok(!f.includes(SECRET), 'the secret is in no file the job writes');
    const lines = parseRecords(output, 1);
    const byStream = (s: string) => lines.filter((l) => l.stream === s).map((l) => l.text);
    assert.deepEqual(byStream('stderr'), ['err one']);
    const out = byStream('stdout');
    assert.equal(out[0], 'out one');
    assert.equal(out[1], 'token=*** and again ***');
    assert.equal(out[2]!.length, 8192, 'a line longer than 8192 characters is split');
    assert.equal(out[3], `${'y'.repeat(8999 - 8192)}x`);
    assert.equal(out.at(-1), 'no newline at the end');
    for (const l of lines) assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.ok(Math.abs(Date.parse(lines[0]!.time) - Date.now()) < 60_000, 'times are UTC now');
    // The plain log has both streams (in arrival order between them, as a terminal shows them).
    assert.deepEqual(log.split('\n').filter((l) => l === 'out one' || l === 'err one').sort(), ['err one', 'out one']);
    assert.ok(log.includes('token=*** and again ***\n'), 'the plain log is masked too');
    assert.ok(jobDir(id).startsWith('$HOME/'));
  });
});

describe('shipping to the store', () => {
  let dir: string;
  let node: string;
  let store: LocalLogStore;
  const meta = { workloadId: 'wl/1', label: attemptLabel(1, 'i-1'), attempt: 1, cloudId: 'i-1', connection: 'local' };
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gpuflow-logs-'));
    node = join(dir, 'node');
    mkdirSync(node);
    store = new LocalLogStore(join(dir, 'store'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('ships whole lines in chunks, resumes from the offset after a restart, ends with the last line once exited', async () => {
    const out = join(node, 'output');
    writeFileSync(out, '');
    for (let i = 0; i < 50; i++) appendFileSync(out, record(i));
    appendFileSync(out, '2026-12-03T10:01:00.000000Z o half a li');
    const first = new LogShipper({ store, meta, read: bashReader(node), secrets: [], chunkBytes: 512, maxAttemptBytes: 1 << 20 });
    const r1 = await first.ship();
    assert.equal(r1.done, false);
    const complete = readFileSync(out).lastIndexOf(0x0a) + 1;
    assert.equal(r1.shippedBytes, complete, 'the line still being written waits');
    assert.ok((await store.listChunks(meta.workloadId, meta.label)).length > 3, 'several chunks of at most 512 bytes');

    // A new worker: a new shipper, resuming where the store's chain ends.
    appendFileSync(out, 'ne\n');
    for (let i = 50; i < 60; i++) appendFileSync(out, record(i, 'e'));
    appendFileSync(out, '2026-12-03T10:02:00.000000Z o last, no newline');
    writeFileSync(join(node, 'exit_code'), '0');
    const second = new LogShipper({ store, meta, read: bashReader(node), secrets: [], chunkBytes: 512, maxAttemptBytes: 1 << 20 });
    const r2 = await second.ship();
    assert.equal(r2.done, true);
    const stored = await readStored(store, meta.workloadId, meta.label, 0);
    assert.deepEqual(stored.data, readFileSync(out), 'the store holds the node file exactly: no gap, no duplicate');
    assert.equal(stored.end, readFileSync(out).length);
    const m = (await store.listAttempts(meta.workloadId))[0]!;
    assert.equal(m.done, true);
    assert.equal(m.shippedBytes, stored.end);
    // Nothing more to ship: idempotent.
    assert.equal((await second.ship()).shippedBytes, 0);
    // Reading from an offset inside a chunk starts there.
    const mid = record(0).length * 10;
    assert.equal((await readStored(store, meta.workloadId, meta.label, mid)).data.toString(), readFileSync(out).subarray(mid).toString());
  });

  it('two shippers racing over one attempt write each offset once', async () => {
    const m2 = { ...meta, label: attemptLabel(2, 'i-2'), attempt: 2, cloudId: 'i-2' };
    const n2 = join(dir, 'node2');
    mkdirSync(n2);
    const out = join(n2, 'output');
    writeFileSync(out, '');
    const a = new LogShipper({ store, meta: m2, read: bashReader(n2), secrets: [], chunkBytes: 400, maxAttemptBytes: 1 << 20 });
    const b = new LogShipper({ store, meta: m2, read: bashReader(n2), secrets: [], chunkBytes: 700, maxAttemptBytes: 1 << 20 });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 20; i++) appendFileSync(out, record(round * 100 + i));
      await Promise.all([a.ship(), b.ship()]);
    }
    const stored = await readStored(store, m2.workloadId, m2.label, 0);
    assert.deepEqual(stored.data.toString(), readFileSync(out, 'utf8'));
    const texts = parseRecords(stored.data, 2).map((l) => l.text);
    assert.equal(new Set(texts).size, 60);
  });

  it('masks secret values before storing, keeping each byte offset', () => {
    const raw = Buffer.from(`2026-12-03T10:00:00.000000Z o key ${SECRET} é ${SECRET}\n2026-12-03T10:00:01.000000Z e -----BEGIN-\n`);
    const masked = maskRecords(raw, [SECRET, 'o', '-----BEGIN-\nsecond line']);
    assert.equal(masked.length, raw.length);
    assert.ok(!masked.toString().includes(SECRET));
    const lines = parseRecords(masked, 1);
    assert.equal(lines[0]!.stream, 'stdout', "a record's stream tag is never masked");
    assert.equal(lines[0]!.text, `key ${'*'.repeat(SECRET.length)} é ${'*'.repeat(SECRET.length)}`.replace('o', '*'));
    assert.equal(lines[1]!.text, '***********', 'each line of a multi-line secret is masked');
  });

  it('keeps the newest bytes under the size limit and says how much was dropped', async () => {
    const m3 = { ...meta, label: attemptLabel(3, 'i-3'), attempt: 3, cloudId: 'i-3' };
    const n3 = join(dir, 'node3');
    mkdirSync(n3);
    const out = join(n3, 'output');
    writeFileSync(out, '');
    const s = new LogShipper({ store, meta: m3, read: bashReader(n3), secrets: [], chunkBytes: 4096, maxAttemptBytes: 10_000 });
    for (let i = 0; i < 1000; i++) {
      appendFileSync(out, record(i));
      if (i % 100 === 99) await s.ship();
    }
    const total = readFileSync(out).length;
    const starts = await store.listChunks(m3.workloadId, m3.label);
    assert.ok(total - starts[0]! <= 10_000 + 4096 && total - starts[0]! >= 10_000 - 4096, `about 10 kB kept (${total - starts[0]!})`);
    assert.equal(await endOfChain(store, m3.workloadId, m3.label), total);
    const view: WorkloadLogView = { running: async () => false, attempts: async () => [], liveTarget: async () => undefined };
    const lines = await collect(workloadLogs(store, m3.workloadId, view, { attempt: 3 }));
    assert.match(lines[0]!.text, /^gpuflow: \d+ bytes of older output dropped/);
    assert.equal(lines.at(-1)!.text, 'line 999');
    assert.equal((await store.listAttempts(m3.workloadId)).find((a) => a.label === m3.label)!.droppedBytes, starts[0]);
  });
});

describe('reading and following', () => {
  let dir: string;
  let store: LocalLogStore;
  const wid = 'follow-1';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gpuflow-logs-read-'));
    store = new LocalLogStore(join(dir, 'store'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function put(attempt: number, cloudId: string, start: number, text: string): Promise<number> {
    const label = attemptLabel(attempt, cloudId);
    const data = Buffer.from(text);
    assert.ok(await store.putChunk(wid, label, { start, end: start + data.length, data }));
    const now = new Date().toISOString();
    await store.putMeta({ workloadId: wid, label, attempt, cloudId, connection: 'local', startedAt: now, updatedAt: now, shippedBytes: start + data.length, droppedBytes: 0, done: false });
    return start + data.length;
  }

  it('shows each attempt labelled; --attempt, --tail and --since select', async () => {
    const end = await put(1, 'i-a', 0, record(1) + record(2, 'e') + record(3));
    await put(1, 'i-a', end, record(4));
    await put(2, 'i-b', 0, record(10) + record(11));
    const view: WorkloadLogView = { running: async () => false, attempts: async () => undefined, liveTarget: async () => undefined };
    const all = await collect(workloadLogs(store, wid, view));
    assert.deepEqual(
      all.map((l) => `${l.attempt} ${l.stream} ${l.text}`),
      ['1 gpuflow gpuflow: attempt 1 on i-a', '1 stdout line 1', '1 stderr line 2', '1 stdout line 3', '1 stdout line 4', '2 gpuflow gpuflow: attempt 2 on i-b', '2 stdout line 10', '2 stdout line 11'],
    );
    assert.deepEqual((await collect(workloadLogs(store, wid, view, { attempt: 1 }))).map((l) => l.text), ['line 1', 'line 2', 'line 3', 'line 4']);
    assert.deepEqual((await collect(workloadLogs(store, wid, view, { tail: 3 }))).map((l) => l.text), ['line 4', 'line 10', 'line 11']);
    const since = new Date('2026-12-03T10:00:04.000Z');
    assert.deepEqual((await collect(workloadLogs(store, wid, view, { since, attempt: 1 }))).map((l) => l.text), ['line 4']);
    assert.deepEqual(await collect(workloadLogs(store, wid, view, { attempt: 7 })), []);
  });

  it('follows the store as it grows, moves on to a new attempt, and ends with the workload', async () => {
    const w = 'follow-2';
    const label1 = attemptLabel(1, 'i-x');
    let attempts = [{ attempt: 1, cloudId: 'i-x' }];
    let running = true;
    const view: WorkloadLogView = { running: async () => running, attempts: async () => attempts, liveTarget: async () => undefined };
    const seen: string[] = [];
    const follower = (async () => {
      for await (const l of workloadLogs(store, w, view, { follow: true, pollMs: 20 })) seen.push(l.text);
    })();
    let pos = 0;
    const push = async (label: string, text: string) => {
      const data = Buffer.from(text);
      await store.putChunk(w, label, { start: pos, end: pos + data.length, data });
      pos += data.length;
    };
    const until = async (what: string, f: () => boolean) => {
      const deadline = Date.now() + 10_000;
      while (!f()) {
        assert.ok(Date.now() < deadline, what);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await push(label1, record(1));
    await until('line 1', () => seen.includes('line 1'));
    await push(label1, record(2) + record(3));
    await until('line 3', () => seen.includes('line 3'));
    // Preempted: a late shipment of attempt 1 lands while attempt 2 starts.
    await push(label1, record(4));
    attempts = [...attempts, { attempt: 2, cloudId: 'i-y' }];
    pos = 0;
    await push(attemptLabel(2, 'i-y'), record(20));
    await until('line 20', () => seen.includes('line 20'));
    running = false;
    await follower;
    assert.deepEqual(seen, ['line 1', 'line 2', 'line 3', 'line 4', 'gpuflow: attempt 2 on i-y', 'line 20']);
    assert.ok(existsSync(join(dir, 'store', w)));
  });
});

describe('retention and settings', () => {
  it('prunes workloads whose last shipment is older than the retention', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpuflow-logs-ret-'));
    try {
      const store = new LocalLogStore(dir);
      const put = async (workloadId: string, updatedAt: string) => {
        const label = attemptLabel(1, 'i');
        await store.putChunk(workloadId, label, { start: 0, end: 4, data: Buffer.from('x\ny\n') });
        await store.putMeta({ workloadId, label, attempt: 1, cloudId: 'i', connection: 'local', startedAt: updatedAt, updatedAt, shippedBytes: 4, droppedBytes: 0, done: true });
      };
      const now = Date.parse('2026-12-03T12:00:00Z');
      await put('old', '2026-11-01T12:00:00Z');
      await put('recent', '2026-12-01T12:00:00Z');
      assert.deepEqual(await pruneLogs(store, 7 * 86_400_000, now), ['old']);
      assert.deepEqual(readdirSync(dir), ['recent']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads limits from the environment with defaults, naming a bad variable and the fix', () => {
    const d = logSettingsFromEnv({ GPUFLOW_HOME: '/h' });
    assert.equal(d.retentionMs, 30 * 86_400_000);
    assert.equal(d.maxAttemptBytes, 256_000_000);
    const s = logSettingsFromEnv({ GPUFLOW_LOG_DIR: '/logs', GPUFLOW_LOG_RETENTION: '12h', GPUFLOW_LOG_MAX_ATTEMPT_SIZE: '1GiB' });
    assert.deepEqual(s, { dir: '/logs', retentionMs: 12 * 3_600_000, maxAttemptBytes: 1024 ** 3 });
    assert.throws(() => logSettingsFromEnv({ GPUFLOW_LOG_MAX_ATTEMPT_SIZE: 'lots' }), /GPUFLOW_LOG_MAX_ATTEMPT_SIZE="lots": a size such as 256MB/);
    assert.throws(() => logSettingsFromEnv({ GPUFLOW_LOG_RETENTION: '5s' }), /GPUFLOW_LOG_RETENTION="5s": a duration of at least 1m/);
  });
});
