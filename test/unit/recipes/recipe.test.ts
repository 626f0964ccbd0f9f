import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BUILTIN_RECIPES_DIR,
  expandRecipe,
  findRecipe,
  imageRegistry,
  listRecipes,
  parseRecipe,
  renderCommand,
  resolveParams,
  type LoadedRecipe,
} from '../../../src/recipes/recipe.js';
import { parseWorkloadSpec, InvalidWorkloadSpecError } from '../../../src/workload/spec.js';
import { jobScript } from '../../../src/activities/node.js';
import { loadRunTarget } from '../../../src/cli/runTarget.js';

const BUILTIN = ['image-generation', 'llm-inference', 'lora-finetune', 'smoke-test', 'whisper-batch'];

/** Example values for required parameters, the way a user would pass them on the command line. */
function exampleParams(r: LoadedRecipe): Record<string, string> {
  return Object.fromEntries(Object.entries(r.params).filter(([, p]) => p.default === undefined).map(([k, p]) => [k, String(p.example)]));
}

function specError(fn: () => unknown): InvalidWorkloadSpecError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InvalidWorkloadSpecError, `expected InvalidWorkloadSpecError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

describe('built-in recipes', () => {
  it('are all there and valid', () => {
    assert.deepEqual(listRecipes([BUILTIN_RECIPES_DIR]).map((r) => r.name), BUILTIN);
  });

  for (const name of BUILTIN) {
    it(`${name}: renders with its defaults and example values into a valid spec whose command is valid bash`, () => {
      const r = findRecipe(name);
      for (const [k, p] of Object.entries(r.params)) {
        if (p.default === undefined) assert.notEqual(p.example, undefined, `${name}.${k} is required, so it shows an example`);
      }
      const spec = parseWorkloadSpec({ recipe: { name, params: exampleParams(r) } });
      assert.equal(spec.name, name, 'the recipe name is the default workload name');
      assert.equal(spec.recipeRef?.name, name);
      assert.ok(spec.image, 'every built-in recipe declares an image');
      assert.ok(spec.gpu.classes.length > 0);
      assert.doesNotMatch(spec.command!, /\{\{/, 'every placeholder is filled');
      // bash -n parses without running: heredocs, quoting and line continuations are well-formed.
      const check = spawnSync('bash', ['-n'], { input: spec.command, encoding: 'utf8' });
      assert.equal(check.status, 0, check.stderr);
      // ...and so is the job script wrapped around it, with the Docker branch.
      const script = jobScript(spec.command!, spec.image, Object.keys({ ...spec.env, GPUFLOW_CHECKPOINT_DIR: '' }));
      assert.equal(spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' }).status, 0);
    });
  }

  it('lora-finetune: LoRA/QLoRA with TRL on an NGC PyTorch image, resumable, output on a persistent volume', () => {
    const r = findRecipe('lora-finetune');
    assert.equal(imageRegistry(r.image!), 'ngc');
    assert.deepEqual(r.params.method?.enum, ['lora', 'qlora']);
    const spec = parseWorkloadSpec({ recipe: { name: 'lora-finetune', params: { base_model: 'meta-llama/Llama-3.1-8B', dataset: 'hf://trl-lib/Capybara', method: 'lora', lora_rank: '64' } } });
    assert.match(spec.command!, /BASE_MODEL='meta-llama\/Llama-3\.1-8B'/);
    assert.match(spec.command!, /METHOD='lora'/);
    assert.match(spec.command!, /LORA_RANK='64'/);
    assert.match(spec.command!, /resume_from_checkpoint/);
    assert.equal(spec.env.GPUFLOW_VOLUMES, 'hf_cache=ephemeral:-:/workspace/hf-cache:rw output=persistent:-:/workspace/output:rw');
    assert.equal(spec.resources?.minDiskGiB, 100, 'the ephemeral cache is sized into the disk requirement');
    assert.equal(spec.spot, 'allow');
    assert.equal(spec.lifecycle.kind, 'job');
  });

  it('llm-inference: a vLLM service on an internal port 8000 with a health path, never auto-shut-down', () => {
    const r = findRecipe('llm-inference');
    assert.equal(r.image, 'vllm/vllm-openai:v0.6.3');
    assert.deepEqual(r.ports, [{ name: 'http', port: 8000, public: false, protocol: 'http', healthPath: '/health' }]);
    const spec = parseWorkloadSpec({ recipe: { name: 'llm-inference', params: { model: 'meta-llama/Llama-3.1-70B-Instruct', tensor_parallel: 4 } }, gpu: { classes: ['H100'], count: 4 } });
    assert.equal(spec.lifecycle.kind, 'service');
    assert.equal(spec.autoShutdown, 'off');
    assert.deepEqual(spec.ports, [{ port: 8000, public: false }]);
    assert.match(spec.command!, /--model 'meta-llama\/Llama-3\.1-70B-Instruct'/);
    assert.match(spec.command!, /tp='4'/);
    assert.equal(spec.gpu.count, 4, 'the user’s GPU overrides the recipe’s');
    // The user's own spec fields win: a public port.
    assert.deepEqual(parseWorkloadSpec({ recipe: { name: 'llm-inference' }, ports: [{ port: 8000, public: true }] }).ports, [{ port: 8000, public: true }]);
  });

  it('image-generation: FLUX.1 or Stable Diffusion, prompt passed safely', () => {
    const prompt = `a fox's "den"; $(rm -rf ~) \`x\``;
    const spec = parseWorkloadSpec({ recipe: { name: 'image-generation', params: { prompt, model: 'stabilityai/stable-diffusion-xl-base-1.0', num_images: 2 } } });
    // Run the command's environment assignments with a probe in place of the Python program.
    const lines = spec.command!.split('\n');
    const from = lines.findIndex((l) => l.startsWith('MODEL='));
    const to = lines.findIndex((l) => l.startsWith("python - <<'PY'"));
    const probe = [...lines.slice(from, to), `sh -c 'printf %s "$PROMPT"'`].join('\n');
    const out = execFileSync('bash', ['-c', probe], { encoding: 'utf8' });
    assert.equal(out, prompt, 'the prompt reaches the job byte for byte, uninterpreted');
    assert.throws(() => resolveParams(findRecipe('image-generation'), { prompt: 'x', model: 'runwayml/stable-diffusion-v1-5' }), /recipe\.params\.model: must be one of "black-forest-labs\/FLUX\.1-schnell"/);
  });

  it('whisper-batch: model size, language and format validated', () => {
    const r = findRecipe('whisper-batch');
    assert.deepEqual(resolveParams(r, { input_uri: 's3://b/calls/', language: 'de', batch_size: '8' }), {
      input_uri: 's3://b/calls/',
      output_uri: '',
      model_size: 'large-v3',
      language: 'de',
      output_format: 'srt',
      compute_type: 'float16',
      batch_size: 8,
    });
    assert.throws(() => resolveParams(r, { input_uri: 'ftp://x', language: 'german', model_size: 'huge', batch_size: 0.5 }), (e: Error) => {
      assert.match(e.message, /recipe\.params\.input_uri: "ftp:\/\/x" does not match/);
      assert.match(e.message, /recipe\.params\.model_size: must be one of "tiny"/);
      assert.match(e.message, /recipe\.params\.language: "german" does not match/);
      assert.match(e.message, /recipe\.params\.batch_size: must be a whole number \(got 0\.5\)/);
      return true;
    });
  });
});

describe('recipe parameters', () => {
  it('renders parameters shell-quoted, so values cannot inject commands', () => {
    const r = { ...findRecipe('smoke-test'), command: 'echo {{ msg }}', params: { msg: { type: 'string' as const, description: '' } } };
    assert.equal(renderCommand(r, { msg: "a'; rm -rf /" }), `echo 'a'\\''; rm -rf /'`);
  });

  it('fills defaults and coerces CLI-style strings', () => {
    const r = findRecipe('smoke-test');
    assert.deepEqual(resolveParams(r, { seconds: '3' }), { seconds: 3, utilization: 90 });
  });

  it('names bad parameters and what the recipe takes', () => {
    const r = findRecipe('smoke-test');
    assert.throws(() => resolveParams(r, { seconds: 'soon', colour: 'red' }), /recipe\.params\.colour: recipe "smoke-test" has no such parameter[\s\S]*recipe\.params\.seconds: must be a number/);
  });

  it('names a missing required parameter with its description and an example', () => {
    const e = specError(() => parseWorkloadSpec({ recipe: { name: 'lora-finetune', params: { dataset: 'hf://a/b' } } }));
    assert.deepEqual(e.issues.map((i) => i.path), ['recipe.params.base_model']);
    assert.match(e.message, /recipe\.params\.base_model: required \(string: Hugging Face model ID of the base model; e\.g\. base_model=meta-llama\/Llama-3\.1-8B\)/);
  });

  it('checks bounds, whole numbers and patterns (whole-value match)', () => {
    const e = specError(() => parseWorkloadSpec({ recipe: { name: 'smoke-test', params: { seconds: -1, utilization: 250 } } }));
    assert.deepEqual(e.issues, [
      { path: 'recipe.params.seconds', message: 'must be >= 0 (got -1)' },
      { path: 'recipe.params.utilization', message: 'must be <= 100 (got 250)' },
    ]);
    // The pattern must match the whole value, not a part of it.
    assert.throws(() => resolveParams(findRecipe('lora-finetune'), { base_model: 'org/model; rm -rf /', dataset: 'hf://a/b' }), /recipe\.params\.base_model: "org\/model; rm -rf \/" does not match/);
  });

  it('expands into a full spec: recipe defaults under the user’s fields', () => {
    const spec = parseWorkloadSpec({ name: 'smoke', recipe: { name: 'smoke-test', params: { seconds: 2 } }, spot: 'never' });
    assert.equal(spec.name, 'smoke');
    assert.equal(spec.spot, 'never');
    assert.deepEqual(spec.gpu.classes, ['L4', 'RTX4090', 'A100', 'H100']);
    assert.match(spec.command!, /sleep '2'/);
    assert.deepEqual(spec.recipeRef, { name: 'smoke-test', params: { seconds: 2, utilization: 90 } });
  });

  it('rejects an unknown recipe and command-plus-recipe clearly', () => {
    assert.throws(() => parseWorkloadSpec({ name: 'x', recipe: { name: 'nope' } }), (e: Error) => e instanceof InvalidWorkloadSpecError && /recipe\.name: no recipe "nope"/.test(e.message));
    assert.throws(() => parseWorkloadSpec({ name: 'x', command: 'true', recipe: { name: 'smoke-test' } }), /either command or recipe/);
    assert.equal(expandRecipe({ name: 'plain', command: 'true' }).command, 'true');
  });
});

describe('recipe files', () => {
  const base = { name: 'mine', description: 'd', command: 'echo {{ x }}', params: { x: { type: 'string', default: 'a' } } };

  it('accepts Docker Hub, other registries and NGC images (ngc: shorthand expanded)', () => {
    assert.equal(parseRecipe({ ...base, image: 'ngc:nvidia/tritonserver:24.08-py3' }).image, 'nvcr.io/nvidia/tritonserver:24.08-py3');
    assert.equal(imageRegistry('nvcr.io/nvidia/pytorch:24.08-py3'), 'ngc');
    assert.equal(imageRegistry('vllm/vllm-openai:v0.6.3'), 'docker-hub');
    assert.equal(imageRegistry('ubuntu'), 'docker-hub');
    assert.equal(imageRegistry('ghcr.io/org/img@sha256:' + 'a'.repeat(64)), 'ghcr.io');
    assert.throws(() => parseRecipe({ ...base, image: 'Not An Image' }), /image: "Not An Image" is not an image reference/);
  });

  it('names what is wrong in a broken recipe: placeholders, defaults, volumes, ports', () => {
    assert.throws(
      () =>
        parseRecipe(
          {
            ...base,
            command: 'echo {{ y }}',
            params: { x: { type: 'number', default: 'five', min: 1 }, z: { type: 'string', pattern: '(' } },
            volumes: [
              { name: 'data', kind: 'network', mountPath: '/data' },
              { name: 'data', kind: 'ephemeral', mountPath: 'rel' },
            ],
            ports: [{ port: 80 }, { port: 80 }],
            defaults: { gpu: { classes: ['H100'], count: 0 }, spto: 'allow', command: 'x' },
          },
          'broken.yaml',
        ),
      (e: Error) => {
        for (const re of [
          /invalid recipe broken\.yaml/,
          /params\.x\.default: the default must be a number/,
          /params\.z\.pattern: not a regular expression/,
          /volumes\.0\.hostPath: a network volume needs hostPath/,
          /volumes\.1\.mountPath: mountPath must be absolute/,
          /volumes\.1\.name: volume "data" is declared twice/,
          /ports\.1\.port: port 80 is declared twice/,
          /command: uses \{\{ y \}\} but declares no such parameter/,
          /defaults\.command: set command at the recipe's top level/,
          /defaults\.gpu\.count/,
          /defaults: unknown spec field\(s\) spto/,
        ]) {
          assert.match(e.message, re);
        }
        return true;
      },
    );
  });

  it('loads user recipes from GPUFLOW_RECIPES_DIR and --recipes-dir, ahead of (and shadowing) built-ins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpuflow-recipes-'));
    const saved = process.env.GPUFLOW_RECIPES_DIR;
    try {
      writeFileSync(join(dir, 'eval.yaml'), 'name: team-eval\ndescription: our eval\ncommand: python eval.py --suite {{ suite }}\nparams:\n  suite: { type: string, enum: [small, full], default: small }\ndefaults:\n  gpu: { classes: [A100] }\n');
      writeFileSync(join(dir, 'smoke.yml'), 'name: smoke-test\ndescription: our own smoke test\ncommand: "true"\n');
      delete process.env.GPUFLOW_RECIPES_DIR;
      const spec = loadRunTarget('team-eval', { params: { suite: 'full' }, recipesDir: [dir] });
      assert.deepEqual(spec, { recipe: { name: 'team-eval', params: { suite: 'full' } } });
      assert.equal(process.env.GPUFLOW_RECIPES_DIR, dir);
      const parsed = parseWorkloadSpec(spec);
      assert.equal(parsed.command, "python eval.py --suite 'full'");
      assert.deepEqual(parsed.gpu.classes, ['A100']);
      assert.equal(findRecipe('smoke-test').description, 'our own smoke test', 'a user recipe shadows the built-in one');
      assert.ok(listRecipes().some((r) => r.name === 'lora-finetune'), 'built-ins are still listed');
    } finally {
      if (saved === undefined) delete process.env.GPUFLOW_RECIPES_DIR;
      else process.env.GPUFLOW_RECIPES_DIR = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('run targets: a spec file (with --param merged into its recipe) or a recipe name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpuflow-run-'));
    try {
      const f = join(dir, 'job.yaml');
      writeFileSync(f, 'name: nightly\nrecipe: { name: smoke-test, params: { seconds: 3 } }\n');
      assert.deepEqual(loadRunTarget(f, { params: { utilization: '50' } }), { name: 'nightly', recipe: { name: 'smoke-test', params: { seconds: 3, utilization: '50' } } });
      writeFileSync(f, 'name: plain\ncommand: "true"\ngpu: { classes: [L4] }\n');
      assert.throws(() => loadRunTarget(f, { params: { a: '1' } }), /--param applies to recipes/);
      assert.throws(() => loadRunTarget('no-such-recipe'), /recipe\.name: no recipe "no-such-recipe" \(known: .*smoke-test/);
      assert.throws(() => loadRunTarget('./missing.yaml'), /no such spec file, and not a recipe name/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('volumes in the job script', () => {
  it('prepares ephemeral and persistent volumes, exports their paths, and fails fast on an unmounted network volume', () => {
    const home = mkdtempSync(join(tmpdir(), 'gpuflow-vol-'));
    try {
      mkdirSync(join(home, 'nfs'));
      const env = {
        HOME: home,
        PATH: process.env.PATH!,
        GPUFLOW_SCRATCH_DIR: join(home, 'scratch', 'wl-1'),
        GPUFLOW_VOLUMES: 'cache=ephemeral:-:/cache:rw out=persistent:-:/out:rw shared=network:nfs:/shared:ro',
      };
      const script = jobScript('echo "$GPUFLOW_VOLUME_CACHE|$GPUFLOW_VOLUME_OUT|$GPUFLOW_VOLUME_SHARED"; echo "${gpuflow_volume_flags[*]}"', undefined, ['GPUFLOW_VOLUMES']);
      const r = spawnSync('bash', ['-c', script], { env, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const [paths, flags] = r.stdout.trim().split('\n');
      assert.equal(paths, `${home}/scratch/wl-1/cache|${home}/.gpuflow/volumes/out|${home}/nfs`);
      assert.equal(flags, `-v ${home}/scratch/wl-1/cache:/cache -e GPUFLOW_VOLUME_CACHE=/cache -v ${home}/.gpuflow/volumes/out:/out -e GPUFLOW_VOLUME_OUT=/out -v ${home}/nfs:/shared:ro -e GPUFLOW_VOLUME_SHARED=/shared`);
      assert.ok(existsSync(join(home, '.gpuflow', 'volumes', 'out')) && existsSync(join(home, 'scratch', 'wl-1', 'cache')));
      const missing = spawnSync('bash', ['-c', script], { env: { ...env, GPUFLOW_VOLUMES: 'shared=network:/lambda/nfs/none:/shared:rw' }, encoding: 'utf8' });
      assert.equal(missing.status, 78);
      assert.match(missing.stderr, /network volume shared: \/lambda\/nfs\/none is not mounted on this host/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('runs images with their entrypoint overridden, NGC login when a key is present, and volumes mounted', () => {
    const s = jobScript('nvidia-smi', 'nvcr.io/nvidia/cuda:12.4.1-base-ubuntu22.04', ['GPUFLOW_VOLUMES', 'NGC_API_KEY']);
    assert.match(s, /docker login nvcr\.io --username '\$oauthtoken' --password-stdin/);
    assert.match(s, /"\$\{gpuflow_volume_flags\[@\]\}" --entrypoint bash 'nvcr\.io\/nvidia\/cuda:12\.4\.1-base-ubuntu22\.04' -c 'nvidia-smi'/);
    assert.doesNotMatch(jobScript('true', 'ubuntu:24.04', []), /docker login|gpuflow_volume_flags/);
    assert.equal(jobScript('true', undefined, []), '#!/usr/bin/env bash\nset -o pipefail\ntrue\n', 'jobs without image or volumes are unchanged');
  });
});
