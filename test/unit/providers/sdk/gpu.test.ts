import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  KNOWN_GPU_MODELS,
  gpuType,
  hostArchitectureForGpu,
  normalizeGpuName,
  parseGpuDescription,
} from '../../../../src/providers/sdk/gpu.js';
import { GpuSchema, type Gpu } from '../../../../src/providers/sdk/types.js';

function gpu(count: number, name: string, memoryGiB: number, networkDetails = '', manufacturer: Gpu['manufacturer'] = 'NVIDIA', memoryDetails = ''): Gpu {
  return {
    count,
    memory: { value: memoryGiB, unit: 'GiB' },
    memoryDetails,
    networkDetails,
    manufacturer,
    name,
    type: networkDetails ? `${name}.${networkDetails}` : name,
  };
}

describe('parseGpuDescription: Lambda descriptions', () => {
  const cases: [string, Gpu][] = [
    ['8x A100 (40 GB SXM4)', gpu(8, 'A100', 40, 'SXM4')],
    ['8x A100 (80 GB SXM4)', gpu(8, 'A100', 80, 'SXM4')],
    ['1x H100 (80 GB SXM5)', gpu(1, 'H100', 80, 'SXM5')],
    ['1x H100 (80 GB PCIe)', gpu(1, 'H100', 80, 'PCIe')],
    ['8x Tesla V100 (16 GB)', gpu(8, 'V100', 16)],
    ['1x A10 (24 GB PCIe)', gpu(1, 'A10', 24, 'PCIe')],
    ['1x RTX A6000 (48 GB)', gpu(1, 'RTXA6000', 48)],
    ['1x GH200 (96 GB)', gpu(1, 'GH200', 96)],
    ['8x B200 (180 GB SXM6)', gpu(8, 'B200', 180, 'SXM6')],
    ['1x L4 (24 GB PCIe)', gpu(1, 'L4', 24, 'PCIe')],
  ];
  for (const [desc, expected] of cases) {
    test(desc, () => {
      const parsed = parseGpuDescription(desc);
      assert.deepEqual(parsed, expected);
      assert.deepEqual(GpuSchema.parse(parsed), expected, 'satisfies GpuSchema unchanged');
    });
  }

  test('a word in the parentheses other than memory is networkDetails, even if unknown', () => {
    assert.equal(parseGpuDescription('2x A100 (80 GB HGX)')?.networkDetails, 'HGX');
    assert.equal(parseGpuDescription('2x A100 (80 GB HGX)')?.type, 'A100.HGX');
  });

  test('memory type in the parentheses is memoryDetails, not networkDetails', () => {
    assert.deepEqual(parseGpuDescription('8x H200 (141 GB HBM3e SXM5)'), gpu(8, 'H200', 141, 'SXM5', 'NVIDIA', 'HBM3e'));
  });
});

describe('parseGpuDescription: bare names and counts', () => {
  test('count defaults to 1 without an "Nx" prefix', () => {
    assert.equal(parseGpuDescription('NVIDIA H100 80GB HBM3')?.count, 1);
  });

  test('count prefix without a space and with ×', () => {
    assert.deepEqual(parseGpuDescription('8xA100'), gpu(8, 'A100', 40));
    assert.deepEqual(parseGpuDescription('4 × L40S'), gpu(4, 'L40S', 48));
  });

  test('CPU-only descriptions are not GPUs', () => {
    assert.equal(parseGpuDescription('4x CPU (16 GB)'), undefined);
    assert.equal(parseGpuDescription('CPU only'), undefined);
  });

  test('strings naming no model are undefined', () => {
    assert.equal(parseGpuDescription(''), undefined);
    assert.equal(parseGpuDescription('   '), undefined);
    assert.equal(parseGpuDescription('NVIDIA'), undefined);
    assert.equal(parseGpuDescription('80GB'), undefined);
  });

  test('a zero count is not a GPU', () => {
    assert.equal(parseGpuDescription('0x H100'), undefined);
  });

  test('an unknown model keeps its upper-cased name, 0 GiB and unknown manufacturer', () => {
    assert.deepEqual(parseGpuDescription('2x Zeta9000'), gpu(2, 'ZETA9000', 0, '', 'unknown'));
  });

  test('an unknown model with stated memory keeps it', () => {
    assert.deepEqual(parseGpuDescription('Zeta9000 64GB'), gpu(1, 'ZETA9000', 64, '', 'unknown'));
  });

  test('an unknown model gets its manufacturer from a brand word or its family', () => {
    assert.equal(parseGpuDescription('AMD Instinct MI355X')?.manufacturer, 'AMD');
    assert.equal(parseGpuDescription('MI210')?.manufacturer, 'AMD');
    assert.equal(parseGpuDescription('Habana Zeta')?.manufacturer, 'Intel');
    assert.equal(parseGpuDescription('B300')?.manufacturer, 'NVIDIA');
    assert.equal(parseGpuDescription('RTX 2080 Ti')?.name, 'RTX2080TI');
    assert.equal(parseGpuDescription('RTX 2080 Ti')?.manufacturer, 'NVIDIA');
  });
});

describe('normalizeGpuName', () => {
  const cases: [string, ReturnType<typeof normalizeGpuName>][] = [
    ['NVIDIA H100 80GB HBM3', { name: 'H100', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: 'HBM3', memoryGiB: 80 }],
    ['NVIDIA A100-SXM4-80GB', { name: 'A100', manufacturer: 'NVIDIA', networkDetails: 'SXM4', memoryDetails: '', memoryGiB: 80 }],
    ['NVIDIA A100-SXM4-40GB', { name: 'A100', manufacturer: 'NVIDIA', networkDetails: 'SXM4', memoryDetails: '', memoryGiB: 40 }],
    ['Tesla V100-SXM2-16GB', { name: 'V100', manufacturer: 'NVIDIA', networkDetails: 'SXM2', memoryDetails: '', memoryGiB: 16 }],
    ['H100 SXM', { name: 'H100', manufacturer: 'NVIDIA', networkDetails: 'SXM', memoryDetails: '', memoryGiB: 80 }],
    ['H100 PCIe', { name: 'H100', manufacturer: 'NVIDIA', networkDetails: 'PCIe', memoryDetails: '', memoryGiB: 80 }],
    ['NVIDIA H100 PCIE', { name: 'H100', manufacturer: 'NVIDIA', networkDetails: 'PCIe', memoryDetails: '', memoryGiB: 80 }],
    // The H100 NVL card has 94 GB: the table keys that variant by its networkDetails.
    ['H100 NVL', { name: 'H100', manufacturer: 'NVIDIA', networkDetails: 'NVL', memoryDetails: '', memoryGiB: 94 }],
    ['A100_80GB', { name: 'A100', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: '', memoryGiB: 80 }],
    ['A100', { name: 'A100', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: '', memoryGiB: 40 }],
    ['H100_SXM5', { name: 'H100', manufacturer: 'NVIDIA', networkDetails: 'SXM5', memoryDetails: '', memoryGiB: 80 }],
    ['RTX 4090', { name: 'RTX4090', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: '', memoryGiB: 24 }],
    ['GeForce RTX 4090', { name: 'RTX4090', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: '', memoryGiB: 24 }],
    ['NVIDIA GeForce RTX 3090', { name: 'RTX3090', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: '', memoryGiB: 24 }],
    ['RTX A6000', { name: 'RTXA6000', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: '', memoryGiB: 48 }],
    ['NVIDIA RTX A6000', { name: 'RTXA6000', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: '', memoryGiB: 48 }],
    ['A6000', { name: 'RTXA6000', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: '', memoryGiB: 48 }],
    ['RTX 6000 Ada Generation', { name: 'RTX6000Ada', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: '', memoryGiB: 48 }],
    ['L40S', { name: 'L40S', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: '', memoryGiB: 48 }],
    ['L40', { name: 'L40', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: '', memoryGiB: 48 }],
    ['L4', { name: 'L4', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: '', memoryGiB: 24 }],
    ['GH200', { name: 'GH200', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: '', memoryGiB: 96 }],
    ['GB200', { name: 'GB200', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: '', memoryGiB: 192 }],
    ['B200', { name: 'B200', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: '', memoryGiB: 192 }],
    ['H200', { name: 'H200', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: '', memoryGiB: 141 }],
    ['NVIDIA H200 141GB HBM3e', { name: 'H200', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: 'HBM3e', memoryGiB: 141 }],
    ['MI300X', { name: 'MI300X', manufacturer: 'AMD', networkDetails: '', memoryDetails: '', memoryGiB: 192 }],
    ['AMD Instinct MI300X', { name: 'MI300X', manufacturer: 'AMD', networkDetails: '', memoryDetails: '', memoryGiB: 192 }],
    ['Gaudi2', { name: 'Gaudi2', manufacturer: 'Intel', networkDetails: '', memoryDetails: '', memoryGiB: 96 }],
    ['Gaudi 2', { name: 'Gaudi2', manufacturer: 'Intel', networkDetails: '', memoryDetails: '', memoryGiB: 96 }],
    ['Intel Gaudi 3', { name: 'Gaudi3', manufacturer: 'Intel', networkDetails: '', memoryDetails: '', memoryGiB: 128 }],
    ['Tesla T4', { name: 'T4', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: '', memoryGiB: 16 }],
    ['tesla t4', { name: 'T4', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: '', memoryGiB: 16 }],
    ['nvidia a10g', { name: 'A10G', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: '', memoryGiB: 24 }],
    ['A10', { name: 'A10', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: '', memoryGiB: 24 }],
    ['A40', { name: 'A40', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: '', memoryGiB: 48 }],
    ['V100', { name: 'V100', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: '', memoryGiB: 16 }],
    ['NVIDIA H100 Tensor Core GPU', { name: 'H100', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: '', memoryGiB: 80 }],
    ['RTX 4090 24 GB GDDR6X', { name: 'RTX4090', manufacturer: 'NVIDIA', networkDetails: '', memoryDetails: 'GDDR6X', memoryGiB: 24 }],
  ];
  for (const [raw, expected] of cases) {
    test(JSON.stringify(raw), () => assert.deepEqual(normalizeGpuName(raw), expected));
  }

  test('memoryGiB is absent when neither the string nor the table knows it', () => {
    const n = normalizeGpuName('Zeta9000');
    assert.equal('memoryGiB' in n, false);
    assert.equal(n.name, 'ZETA9000');
  });

  test('stated memory wins over the table', () => {
    assert.equal(normalizeGpuName('H100 94GB NVL').memoryGiB, 94);
    assert.equal(normalizeGpuName('A100 80G').memoryGiB, 80);
    assert.equal(normalizeGpuName('H100 (96 GB)').memoryGiB, 96);
  });

  test('model numbers that merely contain GB are not memory', () => {
    assert.deepEqual(normalizeGpuName('GB200 NVL'), { name: 'GB200', manufacturer: 'NVIDIA', networkDetails: 'NVL', memoryDetails: '', memoryGiB: 192 });
  });

  test('a stray count word is ignored', () => {
    assert.equal(normalizeGpuName('8x H100').name, 'H100');
  });

  test('brand words are not model words, whatever their case', () => {
    assert.equal(normalizeGpuName('nVidia TESLA geforce Quadro T4').name, 'T4');
  });
});

describe('known model table', () => {
  test('the VRAM values asked for', () => {
    const expected: Record<string, number> = {
      H100: 80, H200: 141, A100: 40, V100: 16, A10: 24, A10G: 24, T4: 16, L4: 24, L40: 48, L40S: 48,
      RTXA6000: 48, RTX4090: 24, RTX3090: 24, B200: 192, GB200: 192, MI300X: 192, A40: 48, GH200: 96,
    };
    for (const [name, gib] of Object.entries(expected)) {
      assert.equal(KNOWN_GPU_MODELS.find((m) => m.name === name)?.vramGiB, gib, name);
    }
  });

  test('names and aliases are unique', () => {
    const all = KNOWN_GPU_MODELS.flatMap((m) => [m.name, ...(m.aliases ?? [])].map((n) => n.toUpperCase()));
    assert.equal(new Set(all).size, all.length);
  });

  test('every known model parses back to itself', () => {
    for (const m of KNOWN_GPU_MODELS) {
      const g = parseGpuDescription(m.name);
      assert.equal(g?.name, m.name);
      assert.equal(g?.manufacturer, m.manufacturer);
      assert.equal(g?.memory.value, m.vramGiB);
    }
  });
});

describe('helpers', () => {
  test('gpuType', () => {
    assert.equal(gpuType('A100', 'SXM4'), 'A100.SXM4');
    assert.equal(gpuType('V100', ''), 'V100');
  });

  test('hostArchitectureForGpu: Grace superchips are arm64', () => {
    assert.equal(hostArchitectureForGpu('GH200'), 'arm64');
    assert.equal(hostArchitectureForGpu('GB200'), 'arm64');
    assert.equal(hostArchitectureForGpu('H100'), undefined);
    assert.equal(hostArchitectureForGpu('RTX4090'), undefined);
  });
});
