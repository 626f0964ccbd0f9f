/**
 * The embedding API examples in README.md run as written: each ```ts block preceded by
 * `<!-- example: NAME -->` is extracted, its `from 'gpuflow'` import pointed at this checkout, and
 * run as its own program against a real dev server, local cloud and worker (configured the way users
 * configure it: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, GPUFLOW_TASK_QUEUE).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestEnv, type TestEnv } from '../../helpers/environment.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const run = promisify(execFile);

function readmeExamples(markdown: string): { name: string; code: string }[] {
  return [...markdown.matchAll(/<!-- example: ([a-z0-9-]+) -->\s*```ts\n([\s\S]*?)```/g)].map((m) => ({ name: m[1]!, code: m[2]! }));
}

const examples = readmeExamples(readFileSync(join(ROOT, 'README.md'), 'utf8'));
// Inside the repo, so tsx and node resolve the project's node_modules; removed afterwards.
const DIR = join(ROOT, 'test', '.readme-examples');
let env: TestEnv;

before(async () => {
  env = await startTestEnv();
  await env.startWorker();
  mkdirSync(DIR, { recursive: true });
});
after(async () => {
  rmSync(DIR, { recursive: true, force: true });
  await env?.teardown();
});

describe('README embedding examples', () => {
  it('are there', () => {
    assert.deepEqual(examples.map((e) => e.name), ['launch-recipe', 'handle', 'list', 'schedule']);
  });

  for (const ex of examples) {
    it(`${ex.name} runs as written`, async () => {
      const file = join(DIR, `${ex.name}.ts`);
      writeFileSync(file, ex.code.replace(/from 'gpuflow'/g, `from ${JSON.stringify(join(ROOT, 'src', 'index.js'))}`));
      const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { env: env.childEnv, timeout: 180_000 }).catch((e: { stdout: string; stderr: string; message: string }) => {
        assert.fail(`example ${ex.name} failed: ${e.message}\n${e.stdout}\n${e.stderr}`);
      });
      // Each example prints what it shows; the README's comments say what to expect.
      const expected: Record<string, RegExp[]> = {
        'launch-recipe': [/^state \w+/m, /^outcome succeeded, exit code 0, cost 0\.\d+ USD on gpu_1x_l4/m],
        handle: [/^running on local \(gpu_1x_l4\), ssh \S+@127\.0\.0\.1 -p \d+/m, /^logs: .*step 1/m, /^outcome stopped/m],
        list: [/^\S+ terminated COMPLETED/m],
        schedule: [/^nightly-smoke every 1d, next run \d{4}-/m, /^triggered run nightly-smoke-\S+ succeeded/m, /^paused true/m],
      };
      for (const re of expected[ex.name] ?? []) assert.match(stdout, re);
    });
  }
});
