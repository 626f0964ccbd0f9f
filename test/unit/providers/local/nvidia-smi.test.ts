import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveGpu } from '../../../../src/providers/local/daemon/catalog.js';
import { nvidiaSmiScript } from '../../../../src/providers/local/daemon/nvidia-smi.js';

describe('fake nvidia-smi', () => {
  let dir: string;
  let smi: string;
  let util: string;
  const run = (...args: string[]) => execFileSync(smi, args, { env: { ...process.env, GPUFLOW_GPU_UTIL_FILE: util }, encoding: 'utf8' });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gpuflow-nvsmi-'));
    smi = join(dir, 'nvidia-smi');
    util = join(dir, 'util');
    const gpu = resolveGpu({
      type: 't', gpuDescription: '2x H100 (80 GB SXM5)', gpu: { productName: 'NVIDIA H100 80GB HBM3' },
      vcpu: 1, memoryGiB: 1, diskGiB: 1, pricePerHour: '1', currency: 'USD', capacity: { a: 1 },
    });
    writeFileSync(smi, nvidiaSmiScript({ instanceId: 'lc-test', gpu, defaultUtilFile: util }), { mode: 0o755 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('answers the csv query like the real one; a missing file means 0', () => {
    const q = ['--query-gpu=index,name,utilization.gpu,memory.used,memory.total', '--format=csv,noheader,nounits'];
    assert.equal(run(...q), '0, NVIDIA H100 80GB HBM3, 0, 0, 81920\n1, NVIDIA H100 80GB HBM3, 0, 0, 81920\n');
    writeFileSync(util, '50\n 7 \n');
    assert.equal(run(...q), '0, NVIDIA H100 80GB HBM3, 50, 40960, 81920\n1, NVIDIA H100 80GB HBM3, 7, 5734, 81920\n');
    assert.equal(
      run('--query-gpu=utilization.gpu,memory.used', '--format=csv'),
      'utilization.gpu [%], memory.used [MiB]\n50 %, 40960 MiB\n7 %, 5734 MiB\n',
    );
    assert.equal(run('-i', '1', '--query-gpu', 'index,utilization.gpu', '--format', 'csv,noheader'), '1, 7 %\n');
    writeFileSync(util, 'garbage\n250\n');
    assert.equal(run('--query-gpu=utilization.gpu', '--format=csv,noheader,nounits'), '0\n100\n');
  });

  it('lists GPUs, prints a table, and refuses unknown fields and options', () => {
    assert.match(run('-L'), /^GPU 0: NVIDIA H100 80GB HBM3 \(UUID: GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\)\nGPU 1: /);
    const table = run();
    assert.match(table, /NVIDIA-SMI 550\.54\.15/);
    assert.equal(table.match(/NVIDIA H100 80GB HBM3/g)?.length, 2);
    const bad = spawnSync(smi, ['--query-gpu=foo', '--format=csv'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /Field "foo" is not a valid field to query/);
    assert.equal(spawnSync(smi, ['--bogus']).status, 2);
    assert.equal(spawnSync(smi, ['-i', '5', '-L']).status, 6);
  });
});
