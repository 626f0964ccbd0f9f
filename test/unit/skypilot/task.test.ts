import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { fromSkyPilotTask, isSkyPilotTask, SkyPilotTaskError } from '../../../src/skypilot/task.js';
import { parseWorkloadSpec } from '../../../src/workload/spec.js';

const task = (text: string) => parse(text) as Record<string, unknown>;
const issuesOf = (doc: Record<string, unknown>) => {
  try {
    fromSkyPilotTask(doc, 'task.yaml');
  } catch (e) {
    assert.ok(e instanceof SkyPilotTaskError, String(e));
    return Object.fromEntries(e.issues.map((i) => [i.path, i.message]));
  }
  assert.fail('expected a SkyPilotTaskError');
};

// The shape of SkyPilot's own examples (examples/minimal.yaml, a torch DDP training task).
const TRAIN = `
name: Train_BERT
resources:
  accelerators: A100:8
  use_spot: true
num_nodes: 1
workdir: ./my-project
file_mounts:
  ~/data/vocab.txt: ./vocab.txt
  /datasets/train: ./train
envs:
  EPOCHS: 3
  MODEL: bert-base
setup: |
  pip install -r requirements.txt
run: |
  python train.py --epochs $EPOCHS --model $MODEL
`;

test('a SkyPilot task is told apart from a gpuflow spec', () => {
  assert.equal(isSkyPilotTask(task(TRAIN)), true);
  assert.equal(isSkyPilotTask({ name: 'x', command: 'true', gpu: { classes: ['L4'] }, setup: 'x', workdir: '.' }), false);
});

test('the supported subset maps to a gpuflow spec that validates', () => {
  const spec = fromSkyPilotTask(task(TRAIN), 'train.yaml');
  assert.deepEqual(spec, {
    name: 'train-bert',
    command: 'python train.py --epochs $EPOCHS --model $MODEL\n',
    setup: 'pip install -r requirements.txt\n',
    workdir: './my-project',
    gpu: { classes: ['A100'], count: 8 },
    spot: 'only',
    files: { '~/data/vocab.txt': './vocab.txt', '/datasets/train': './train' },
    env: { EPOCHS: '3', MODEL: 'bert-base' },
  });
  const parsed = parseWorkloadSpec(spec);
  assert.equal(parsed.gpu.count, 8);
  assert.equal(parsed.spot, 'only');
});

test('accelerators as a mapping or a list; no name takes the file name', () => {
  assert.deepEqual(fromSkyPilotTask(task('resources: { accelerators: { L4: 1, A10G: 1 } }\nrun: nvidia-smi'), 't.yaml', 'hello-sky').gpu, { classes: ['L4', 'A10G'], count: 1 });
  assert.deepEqual(fromSkyPilotTask(task('resources: { accelerators: [H100:8, A100-80GB:8] }\nrun: x'), 't.yaml').gpu, { classes: ['H100', 'A100-80GB'], count: 8 });
  assert.equal(fromSkyPilotTask(task('run: x\nresources: { accelerators: L4 }'), 't.yaml', 'hello-sky').name, 'hello-sky');
});

test('what gpuflow cannot run yet is refused naming the SkyPilot field and why', () => {
  const issues = issuesOf(
    task(`
num_nodes: 2
resources:
  accelerators: { A100: 8, H100: 4 }
  cloud: aws
  region: us-east-1
  disk_size: 512
file_mounts:
  /data: s3://my-bucket/data
  /ckpt:
    name: my-ckpt
    mode: MOUNT
envs:
  HF_TOKEN:
secrets:
  WANDB_KEY: null
setup: echo
`),
  );
  assert.match(issues.num_nodes!, /multi-node .*2 nodes.* set num_nodes: 1/);
  assert.match(issues['resources.accelerators']!, /one GPU count/);
  assert.match(issues['resources.cloud']!, /^not supported: .*placement\.providers/);
  assert.match(issues['resources.region']!, /placement\.regions/);
  assert.match(issues['resources.disk_size']!, /minDiskGiB/);
  assert.match(issues['file_mounts./data']!, /bucket mounts \(s3:\/\/\)/);
  assert.match(issues['file_mounts./ckpt']!, /storage mounts/);
  assert.match(issues['envs.HF_TOKEN']!, /has no value/);
  assert.match(issues.secrets!, /secretEnv/);
  assert.match(issues.run!, /add run/);
});

test('a misspelt field is named, not dropped', () => {
  const issues = issuesOf(task('run: x\nresources: { acelerators: L4 }\nsetpu: y'));
  assert.match(issues['resources.acelerators']!, /check the spelling/);
  assert.match(issues.setpu!, /check the spelling/);
});
