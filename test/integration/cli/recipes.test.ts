/** `gpuflow recipes ...` and `gpuflow run <recipe> --param k=v`, as a user runs them, against a real dev server and local cloud. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runGpuflow, type CliResult } from '../../helpers/cli.js';
import { startTestEnv, type TestEnv } from '../../helpers/environment.js';

let env: TestEnv;

function gpuflow(...args: string[]): Promise<CliResult> {
  return runGpuflow(env.childEnv, args, 120_000);
}

before(async () => {
  env = await startTestEnv();
  await env.startWorker();
});
after(async () => {
  await env?.teardown();
});

describe('gpuflow recipes / run <recipe>', () => {
  it('lists and shows the recipes, including a user directory', async () => {
    const dir = join(env.dir, 'my-recipes');
    mkdirSync(dir);
    writeFileSync(join(dir, 'hello.yaml'), 'name: hello\ndescription: Says hello.\ncommand: echo hello {{ who }}\nparams:\n  who: { type: string, default: world }\ndefaults:\n  gpu: { classes: [L4] }\n');
    const list = await gpuflow('recipes', 'list', '--recipes-dir', dir, '--json');
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual((JSON.parse(list.stdout) as { name: string }[]).map((r) => r.name), ['hello', 'image-generation', 'llm-inference', 'lora-finetune', 'smoke-test', 'whisper-batch']);
    const table = await gpuflow('recipes', 'list');
    assert.match(table.stdout, /llm-inference\s+service\s+1x H100\|A100\|L40S\|L4/);
    const show = await gpuflow('recipes', 'show', 'lora-finetune');
    assert.match(show.stdout, /image\s+nvcr\.io\/nvidia\/pytorch:24\.08-py3 \(ngc\)/);
    assert.match(show.stdout, /base_model\s+string\s+REQUIRED, e\.g\. meta-llama\/Llama-3\.1-8B/);
    assert.match(show.stdout, /hf_cache\s+ephemeral\s+\/workspace\/hf-cache 100 GiB\s+\$GPUFLOW_VOLUME_HF_CACHE/);
    assert.match(show.stdout, /run it: gpuflow run lora-finetune --param base_model="meta-llama\/Llama-3\.1-8B" --param dataset="hf:\/\/trl-lib\/Capybara"/);
  });

  it('refuses bad parameters naming each one, and starts nothing', async () => {
    const r = await gpuflow('run', 'lora-finetune', '--param', 'base_model=meta-llama/Llama-3.1-8B', '-p', 'dataset=ftp://x', '-p', 'lora_rank=0', '-p', 'epoch=3');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /recipe\.params\.epoch: recipe "lora-finetune" has no such parameter/);
    assert.match(r.stderr, /recipe\.params\.dataset: "ftp:\/\/x" does not match/);
    assert.match(r.stderr, /recipe\.params\.lora_rank: must be >= 1 \(got 0\)/);
    assert.match((await gpuflow('run', 'no-such-recipe')).stderr, /no recipe "no-such-recipe" \(known: image-generation, llm-inference/);
    assert.match((await gpuflow('run', 'smoke-test', '-p', 'seconds')).stderr, /use KEY=VALUE/);
    assert.deepEqual(JSON.parse((await gpuflow('ps', '--json')).stdout), []);
  });

  it('runs a recipe by name with --param to the end', async () => {
    const r = await gpuflow('run', 'smoke-test', '--param', 'seconds=1', '--gpu', 'L4', '--spot', 'never', '--json');
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { workloadId: string; outcome: string; offer: { type: string } };
    assert.equal(result.outcome, 'succeeded');
    assert.match(result.workloadId, /^smoke-test-/, 'named after the recipe');
    assert.equal(result.offer.type, 'gpu_1x_l4', '--gpu overrides the recipe’s GPU classes');
  });
});
