/** startDevServer: a server that dies before it serves is reported with its stderr, and retried on a fresh port. */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { resolveTemporalCli } from '../../../src/temporal/resolveCli.js';
import { DevServerExitedError, startDevServer } from '../../../src/temporal/devServer.js';

const dir = mkdtempSync(join(tmpdir(), 'gpuflow-devserver-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in CLI that fails `failures` times (as a port taken under it would), then runs the real one. */
function flakyCli(failures: number): { exe: string; calls: () => string[] } {
  const log = join(dir, `calls-${failures}.log`);
  writeFileSync(log, '');
  const exe = join(dir, `temporal-${failures}`);
  const real = resolveTemporalCli() ?? '';
  writeFileSync(
    exe,
    `#!/bin/sh\necho "$*" >> '${log}'\nn=$(wc -l < '${log}')\nif [ "$n" -le ${failures} ]; then echo "listen tcp: address already in use" >&2; exit 1; fi\nexec '${real}' "$@"\n`,
  );
  chmodSync(exe, 0o755);
  return { exe, calls: () => readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) };
}

it('names the exit code and the end of stderr when the server never serves', async () => {
  const { exe, calls } = flakyCli(99);
  await assert.rejects(startDevServer({ executable: exe, port: 1 + (process.pid % 20_000) + 30_000 }), (e: unknown) => {
    assert.ok(e instanceof DevServerExitedError);
    assert.match(e.message, /exited early with code 1/);
    assert.match(e.message, /address already in use/);
    return true;
  });
  assert.equal(calls().length, 1, 'an explicit port is not retried');
});

it('retries on another port it picks itself', { skip: !resolveTemporalCli() && 'no Temporal CLI' }, async () => {
  const { exe, calls } = flakyCli(1);
  const server = await startDevServer({ executable: exe });
  try {
    const ports = calls().map((c) => /--port (\d+)/.exec(c)?.[1]);
    assert.equal(ports.length, 2);
    assert.notEqual(ports[0], ports[1], 'the second try picked a fresh port');
    assert.ok(server.address.endsWith(`:${ports[1]}`));
  } finally {
    await server.stop();
  }
});
