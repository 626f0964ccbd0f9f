/**
 * A fresh clone's rough edges (issue 19 item 9): npm install scripts all decided in package.json,
 * the Temporal CLI build as one progress line with the full log in a file (a fake `go` on PATH, so
 * no real build runs), examples/hello-gpu.yaml saying what it does, and log lines that go to a file
 * when GPUFLOW_LOG_FILE is set (the test runs), not into the reporter's output.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { parseWorkloadSpec } from '../../../src/workload/spec.js';

const root = join(import.meta.dirname, '..', '..', '..');
const exec = promisify(execFile);

describe('npm install scripts', () => {
  it('every dependency with an install script is decided in package.json allowScripts (npm ci warns about none)', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };
    const withScripts = [...new Set(Object.entries(lock.packages).filter(([path, p]) => path && p.hasInstallScript).map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)))].sort();
    assert.ok(withScripts.length > 0, 'the lock marks packages with install scripts');
    const decided = pkg.allowScripts ?? {};
    const undecided = withScripts.filter((name) => typeof decided[name] !== 'boolean');
    assert.deepEqual(undecided, [], 'decide each with `npm install-scripts deny <pkg>` (or approve, when its script is needed) and say why in the README');
    // Denied, because none is needed: prebuilt optional packages (@swc/core-*, @esbuild/*) carry the
    // binaries, and ssh2 / cpu-features fall back to JavaScript without their optional native builds.
    for (const name of ['@swc/core', 'esbuild', 'ssh2', 'cpu-features', 'protobufjs']) assert.equal(decided[name], false, name);
    const stale = Object.keys(decided).filter((name) => !withScripts.includes(name));
    assert.deepEqual(stale, [], 'entries for packages that no longer have install scripts (`npm install-scripts prune`)');
  });
});

/** A `go` that behaves like `go install` of the Temporal CLI: many `go: downloading` lines, then a binary (or a failure). */
function fakeGoDir(dir: string): string {
  const bin = join(dir, 'fake-bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, 'go'),
    `#!/usr/bin/env bash
[ "$1" = install ] || { echo "fake go: unexpected $*" >&2; exit 2; }
for i in $(seq 1 160); do echo "go: downloading example.com/mod$i v1.0.$i" >&2; done
if [ -n "\${FAKE_GO_FAIL:-}" ]; then echo "example.com/mod7: build failed: the cause" >&2; exit 1; fi
sleep 2.5
printf '#!/bin/sh\\necho fake temporal\\n' > "$GOBIN/temporal"; chmod +x "$GOBIN/temporal"
`,
  );
  chmodSync(join(bin, 'go'), 0o755);
  return bin;
}

function installEnv(dir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${fakeGoDir(dir)}:${process.env.PATH}`, GPUFLOW_CACHE_DIR: join(dir, 'cache'), GPUFLOW_IGNORE_PATH_TEMPORAL: '1', ...extra };
  delete env.TEMPORAL_CLI;
  delete env.GPUFLOW_NO_BUILD;
  return env;
}

const script = join(root, 'scripts', 'install-temporal.sh');

describe('scripts/install-temporal.sh (a fake go on PATH)', () => {
  it('prints a few lines, not 160 `go: downloading`, keeps the full log in a file and prints the binary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpuflow-install-'));
    try {
      const { stdout, stderr } = await exec('bash', [script], { env: installEnv(dir) });
      const bin = join(dir, 'cache', 'temporal-cli', 'v1.5.1', 'temporal');
      assert.equal(stdout, `${bin}\n`, 'stdout is the binary path alone');
      assert.doesNotMatch(stderr, /go: downloading/);
      assert.ok(stderr.trim().split('\n').length <= 4, `a short stderr:\n${stderr}`);
      const log = join(dir, 'cache', 'temporal-cli', 'v1.5.1', 'build.log');
      assert.match(stderr, new RegExp(`full build log: ${log}`));
      assert.match(stderr, /built: 160 modules downloaded/);
      assert.equal(readFileSync(log, 'utf8').match(/^go: downloading/gm)?.length, 160, 'the whole log is in the file');
      // Built once: the next run finds it and prints nothing on stderr.
      const again = await exec('bash', [script], { env: installEnv(dir) });
      assert.equal(again.stdout, `${bin}\n`);
      assert.equal(again.stderr, '');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('in a terminal: one progress line rewritten in place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpuflow-install-'));
    try {
      // `script` gives the build a real pty on stderr (stdout still goes to the file).
      const out = join(dir, 'path.txt');
      const tty = await exec('script', ['-qec', `bash ${script} > ${out}`, '/dev/null'], { env: installEnv(dir) });
      const screen = tty.stdout;
      assert.match(screen, /\r {2}\d+ modules downloaded\.\.\./, 'a progress line rewritten with \\r');
      assert.doesNotMatch(screen, /go: downloading/);
      assert.ok(screen.split('\n').length <= 6, `a few lines on the terminal:\n${screen}`);
      assert.match(readFileSync(out, 'utf8'), /temporal-cli\/v1\.5\.1\/temporal\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('on failure: the last lines of the log with the cause, exit 1, no half-built binary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpuflow-install-'));
    try {
      const r = await exec('bash', [script], { env: installEnv(dir, { FAKE_GO_FAIL: '1' }) }).then(
        () => assert.fail('expected a failure'),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /building the Temporal CLI failed; the last lines of .*build\.log:/);
      assert.match(r.stderr, /example\.com\/mod7: build failed: the cause/);
      assert.ok((r.stderr.match(/go: downloading/g)?.length ?? 0) < 20, 'only the tail of the log');
      assert.equal(existsSync(join(dir, 'cache', 'temporal-cli', 'v1.5.1', 'temporal')), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('examples/hello-gpu.yaml', () => {
  it('does what its comments say: the GPU classes, spot when cheaper, the price cap, idle shutdown', () => {
    const text = readFileSync(join(root, 'examples', 'hello-gpu.yaml'), 'utf8');
    const comment = text
      .split('\n')
      .filter((l) => l.startsWith('#'))
      .join(' ');
    const spec = parseWorkloadSpec(parse(text));
    const classes = /cheapest (.+?) or (.+?) anywhere/.exec(comment);
    assert.ok(classes, comment);
    assert.deepEqual([classes[1], classes[2]].map((c) => c!.replace(/\s/g, '').toUpperCase()), spec.gpu.classes.map((c) => c.toUpperCase().replace(/\s/g, '')));
    assert.match(comment, /spot when cheaper \(else on-demand\)/);
    assert.equal(spec.spot, 'allow', 'spot when cheaper is spot: allow (never forbids spot, only forbids on-demand)');
    const cap = /at most (\d+\.\d+)\/h/.exec(comment);
    assert.equal(cap?.[1], String(parse(text).maxPricePerHour));
    assert.match(comment, /shut down if idle/);
    assert.ok(spec.autoShutdown, 'an autoShutdown section');
  });
});

describe('worker logs in test runs', () => {
  it('with GPUFLOW_LOG_FILE the JSON log lines go to that file, none to stdout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpuflow-logs-'));
    try {
      const file = join(dir, 'nested', 'worker.log');
      const code = `import { createLogger } from ${JSON.stringify(join(root, 'src', 'logging', 'logger.ts'))};
        createLogger('worker').warn({ token: 'tok-123' }, 'a worker line');`;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, env: { ...process.env, GPUFLOW_LOG_FILE: file }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exit = await new Promise<number | null>((r) => child.on('exit', r));
      assert.equal(exit, 0, stderr);
      assert.equal(stdout, '', 'nothing on stdout (the test reporter)');
      const line = JSON.parse(readFileSync(file, 'utf8').trim()) as { name: string; msg: string; token: string };
      assert.deepEqual([line.name, line.msg, line.token], ['worker', 'a worker line', '[redacted]']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('scripts/test.sh sets GPUFLOW_LOG_FILE for the whole run and says where it is', () => {
    const sh = readFileSync(join(root, 'scripts', 'test.sh'), 'utf8');
    const exportAt = sh.indexOf('export GPUFLOW_LOG_FILE=');
    assert.ok(exportAt > 0);
    assert.ok(exportAt < sh.indexOf('node --import tsx --test'), 'set before the tests run');
    assert.match(sh, /echo "worker logs of this run: \$GPUFLOW_LOG_FILE"/);
  });
});
