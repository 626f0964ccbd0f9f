/** Every constraint, one by one, with the words a user reads when an offer fails it. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytes } from '../../../src/providers/sdk/bytes.js';
import type { OfferConstraints } from '../../../src/routing/constraints.js';
import type { Offer } from '../../../src/routing/offer.js';
import { explainRejection, rankOffers } from '../../../src/routing/rankOffers.js';
import { NOW, constraints, gpu, offer, usd } from './fixtures.js';

const why = (o: Offer, c: Partial<OfferConstraints>) => explainRejection(o, constraints(c), { now: NOW });

describe('providers', () => {
  it('allow: by connection or provider name, others rejected with the list', () => {
    const o = offer({ connection: 'lambda-prod', provider: 'lambda' });
    assert.equal(why(o, { providersAllow: ['lambda'] }), undefined);
    assert.equal(why(o, { providersAllow: ['lambda-prod'] }), undefined);
    assert.equal(why(o, { providersAllow: ['nebius', 'vast'] }), 'provider lambda (connection lambda-prod) not in [nebius, vast]');
    assert.equal(why(offer(), { providersAllow: ['nebius'] }), 'provider lambda not in [nebius]');
    assert.equal(why(offer({ connection: 'skypilot:vast', provider: 'vast' }), { providersAllow: ['nebius'] }), 'provider vast not in [nebius]');
  });

  it('deny: by connection or provider name', () => {
    assert.equal(why(offer(), { providersDeny: ['lambda'] }), 'provider lambda is denied');
    assert.equal(why(offer({ connection: 'lambda-prod' }), { providersDeny: ['lambda-prod'] }), 'provider lambda (connection lambda-prod) is denied');
    assert.equal(why(offer(), { providersDeny: ['vast'] }), undefined);
  });
});

describe('GPU model, aliases and form factor', () => {
  it('rejects CPU-only offers and other models, naming the offer GPU and the wanted ones', () => {
    assert.equal(why(offer({ gpu: undefined }), {}), 'no GPU (want [H100])');
    assert.equal(why(offer({ gpu: gpu('A100', 1, 40, 'SXM4') }), { gpuClasses: ['H100', 'H200'] }), 'GPU A100.SXM4 40 GiB not in [H100, H200]');
  });

  it('normalizes names: case, brand words, separators and aliases', () => {
    const a6000 = offer({ gpu: gpu('RTXA6000', 1, 48) });
    for (const w of ['A6000', 'rtx a6000', 'NVIDIA RTX A6000', 'RTX-A6000']) assert.equal(why(a6000, { gpuClasses: [w] }), undefined, w);
    const rtx = offer({ gpu: gpu('RTX4090', 1, 24) });
    for (const w of ['RTX 4090', 'GeForce RTX 4090', 'rtx_4090']) assert.equal(why(rtx, { gpuClasses: [w] }), undefined, w);
  });

  it('a bare model matches every form factor; a form factor only when asked', () => {
    const sxm = offer({ gpu: gpu('H100', 1, 80, 'SXM5') });
    const pcie = offer({ gpu: gpu('H100', 1, 80, 'PCIe') });
    const nvl = offer({ gpu: gpu('H100', 1, 94, 'NVL') });
    for (const o of [sxm, pcie, nvl]) assert.equal(why(o, { gpuClasses: ['H100'] }), undefined);
    for (const w of ['H100 SXM', 'H100.SXM', 'h100-sxm', 'H100_SXM5', 'H100 SXM5']) assert.equal(why(sxm, { gpuClasses: [w] }), undefined, w);
    assert.equal(why(pcie, { gpuClasses: ['H100 SXM'] }), 'GPU H100.PCIe 80 GiB not in [H100 SXM]');
    assert.equal(why(sxm, { gpuClasses: ['H100-PCIe'] }), 'GPU H100.SXM5 80 GiB not in [H100-PCIe]');
    assert.equal(why(sxm, { gpuClasses: ['H100 SXM4'] }), 'GPU H100.SXM5 80 GiB not in [H100 SXM4]');
    assert.equal(why(nvl, { gpuClasses: ['H100 NVL'] }), undefined);
    assert.equal(why(offer({ gpu: gpu('H100', 1, 80, 'NVLink') }), { gpuClasses: ['H100 NVL'] }), 'GPU H100.NVLink 80 GiB not in [H100 NVL]');
  });

  it('a memory size in the class is a minimum ("A100-80GB" is not the 40 GB A100)', () => {
    assert.equal(why(offer({ gpu: gpu('A100', 8, 80, 'SXM4') }), { gpuClasses: ['A100-80GB'], gpuCount: 8 }), undefined);
    assert.equal(why(offer({ gpu: gpu('A100', 8, 40, 'SXM4') }), { gpuClasses: ['A100-80GB'], gpuCount: 8 }), 'GPU A100.SXM4 40 GiB not in [A100-80GB]');
  });

  it('"*" and an empty list match any GPU, never a CPU-only offer', () => {
    assert.equal(why(offer({ gpu: gpu('L4', 1, 24) }), { gpuClasses: ['*'] }), undefined);
    assert.equal(why(offer({ gpu: gpu('L4', 1, 24) }), { gpuClasses: [] }), undefined);
    assert.equal(why(offer({ gpu: undefined }), { gpuClasses: [] }), 'no GPU (want any GPU)');
  });
});

describe('interconnect', () => {
  const net = (n: string) => offer({ gpu: gpu('H100', 8, 80, n), type: `t-${n}` });
  it('SXM accepts every SXM generation; SXM5 only SXM5', () => {
    assert.equal(why(net('SXM5'), { gpuCount: 8, gpuInterconnect: ['SXM'] }), undefined);
    assert.equal(why(net('SXM4'), { gpuCount: 8, gpuInterconnect: ['SXM5'] }), 'interconnect SXM4 not in [SXM5]');
  });
  it('NVLink accepts NVLink, NVL and SXM boards; PCIe only PCIe', () => {
    for (const n of ['NVLink', 'NVL', 'SXM5']) assert.equal(why(net(n), { gpuCount: 8, gpuInterconnect: ['NVLink'] }), undefined, n);
    assert.equal(why(net('PCIe'), { gpuCount: 8, gpuInterconnect: ['NVLink'] }), 'interconnect PCIe not in [NVLink]');
    assert.equal(why(net('SXM5'), { gpuCount: 8, gpuInterconnect: ['PCIe'] }), 'interconnect SXM5 not in [PCIe]');
  });
  it('an unstated interconnect never satisfies an asked one; any of several may', () => {
    assert.equal(why(net(''), { gpuCount: 8, gpuInterconnect: ['SXM'] }), 'interconnect unknown not in [SXM]');
    assert.equal(why(net('PCIe'), { gpuCount: 8, gpuInterconnect: ['SXM', 'PCIe'] }), undefined);
  });
});

describe('GPU count', () => {
  it('exact', () => {
    assert.equal(why(offer({ gpu: gpu('H100', 8) }), { gpuCount: 8 }), undefined);
    assert.equal(why(offer({ gpu: gpu('H100', 4) }), { gpuCount: 8 }), 'GPU count 4 is not 8');
  });
  it('range, inclusive', () => {
    for (const n of [2, 4, 8]) assert.equal(why(offer({ gpu: gpu('H100', n) }), { gpuCount: { min: 2, max: 8 } }), undefined, String(n));
    assert.equal(why(offer({ gpu: gpu('H100', 1) }), { gpuCount: { min: 2, max: 8 } }), 'GPU count 1 not in 2-8');
    assert.equal(why(offer({ gpu: gpu('H100', 16) }), { gpuCount: { min: 2, max: 8 } }), 'GPU count 16 not in 2-8');
  });
});

describe('resources', () => {
  it('GPU memory in whole GiB, rounded: nvidia-smi 81559 MiB is an 80 GiB H100', () => {
    const mib = offer({ gpu: { ...gpu('H100'), memory: bytes(81559, 'MiB') } });
    assert.equal(why(mib, { minGpuMemoryGiB: 80 }), undefined);
    assert.equal(why(offer({ gpu: gpu('H100', 1, 40) }), { minGpuMemoryGiB: 80 }), 'GPU memory 40 GiB under minimum 80 GiB');
    assert.equal(why(offer({ gpu: gpu('H100', 1, 0) }), { minGpuMemoryGiB: 80 }), 'GPU memory unknown, minimum 80 GiB');
  });
  it('vCPU, RAM and disk minimums; an offer without a fixed disk is sized at create and passes', () => {
    assert.equal(why(offer({ vcpu: 8 }), { minVcpu: 16 }), 'vCPU 8 under minimum 16');
    assert.equal(why(offer({ vcpu: 16 }), { minVcpu: 16 }), undefined);
    assert.equal(why(offer({ memoryGiB: 64 }), { minMemoryGiB: 128 }), 'RAM 64 GiB under minimum 128 GiB');
    assert.equal(why(offer({ memoryGiB: 128 }), { minMemoryGiB: 128 }), undefined);
    assert.equal(why(offer({ diskGiB: 500 }), { minDiskGiB: 1000 }), 'disk 500 GiB under minimum 1000 GiB');
    assert.equal(why(offer({ diskGiB: 1000 }), { minDiskGiB: 1000 }), undefined);
    assert.equal(why(offer(), { minDiskGiB: 1000 }), undefined);
  });
});

describe('spot tolerance', () => {
  const od = offer({ spot: false });
  const sp = offer({ spot: true });
  it('never: on-demand only', () => {
    assert.equal(why(od, { spot: 'never' }), undefined);
    assert.equal(why(sp, { spot: 'never' }), 'spot not allowed');
  });
  it('only: spot only', () => {
    assert.equal(why(sp, { spot: 'only' }), undefined);
    assert.equal(why(od, { spot: 'only' }), 'on-demand not allowed (spot only)');
  });
  it('allow: both markets', () => {
    assert.equal(why(sp, { spot: 'allow' }), undefined);
    assert.equal(why(od, { spot: 'allow' }), undefined);
  });
});

describe('regions', () => {
  it('exact or glob (* and ?), case-insensitive', () => {
    assert.equal(why(offer({ location: 'us-east-1' }), { regions: ['us-east-1'] }), undefined);
    assert.equal(why(offer({ location: 'us-east-1' }), { regions: ['us-*'] }), undefined);
    assert.equal(why(offer({ location: 'eu-north1' }), { regions: ['EU-?ORTH*'] }), undefined);
    assert.equal(why(offer({ location: 'Texas, US, NA' }), { regions: ['*, US, *'] }), undefined);
    assert.equal(why(offer({ location: 'eu-west1' }), { regions: ['us-*', 'eu-north1'] }), 'region eu-west1 not in [us-*, eu-north1]');
    assert.equal(why(offer({ location: 'us-east-1a' }), { regions: ['us-east-1'] }), 'region us-east-1a not in [us-east-1]', 'exact means exact');
  });
  it('regular-expression characters in names are literal', () => {
    assert.equal(why(offer({ location: 'East Coast (NY2)' }), { regions: ['East Coast (NY2)'] }), undefined);
    assert.equal(why(offer({ location: 'us-east-1' }), { regions: ['us.east.1'] }), 'region us-east-1 not in [us.east.1]');
  });
});

describe('countries', () => {
  it('alpha-3 or alpha-2; the message lists what was asked', () => {
    assert.equal(why(offer({ country: 'DEU' }), { countries: ['DEU', 'FIN'] }), undefined);
    assert.equal(why(offer({ country: 'FRA' }), { countries: ['DEU', 'FIN'] }), 'country FRA not in [DEU, FIN]');
    assert.equal(why(offer({ country: 'DEU' }), { countries: ['de'] }), undefined);
  });
  it('named groups: EU, EEA, EFTA', () => {
    assert.equal(why(offer({ country: 'DEU' }), { countries: ['EU'] }), undefined);
    assert.equal(why(offer({ country: 'USA' }), { countries: ['EU'] }), 'country USA not in [EU]');
    assert.equal(why(offer({ country: 'NOR' }), { countries: ['EU'] }), 'country NOR not in [EU]');
    assert.equal(why(offer({ country: 'NOR' }), { countries: ['EEA'] }), undefined);
    assert.equal(why(offer({ country: 'CHE' }), { countries: ['EFTA'] }), undefined);
    assert.equal(why(offer({ country: 'CHE' }), { countries: ['EU', 'USA'] }), 'country CHE not in [EU, USA]');
  });
  it('an unknown pin is an error, not a silent mismatch', () => {
    assert.throws(() => why(offer(), { countries: ['Germany'] }), /"Germany" is not an ISO 3166-1 country code or a country group/);
  });
});

describe('price', () => {
  it('per instance-hour: over the max is rejected, equal is fine', () => {
    assert.equal(why(offer({ price: '3.2' }), { maxPricePerHour: usd('2.50') }), 'price 3.20/h over max 2.50/h');
    assert.equal(why(offer({ price: '2.5001' }), { maxPricePerHour: usd('2.5') }), 'price 2.5001/h over max 2.50/h');
    assert.equal(why(offer({ price: '2.50' }), { maxPricePerHour: usd('2.5') }), undefined);
    assert.equal(why(offer({ price: '2.499999' }), { maxPricePerHour: usd('2.50') }), undefined);
  });
  it('per GPU-hour: instance price divided by its GPUs', () => {
    const c = { gpuCount: 8, maxPricePerGpuHour: usd('2.50') };
    assert.equal(why(offer({ gpu: gpu('H100', 8), price: '20.00' }), c), undefined);
    assert.equal(why(offer({ gpu: gpu('H100', 8), price: '20.08' }), c), 'price per GPU 2.51/h over max 2.50/h');
    assert.equal(why(offer({ gpu: gpu('H100', 8), price: '23.92' }), c), 'price per GPU 2.99/h over max 2.50/h');
  });
  it('refuses to compare prices in different currencies', () => {
    const eur = offer({ pricePerHour: { amount: 100, currency: 'EUR', scale: 2 } });
    assert.equal(why(eur, { maxPricePerHour: usd('2.50') }), 'price in EUR, max price in USD');
  });
});

describe('availability and order of checks', () => {
  it('no capacity', () => {
    assert.equal(why(offer({ available: false }), {}), 'no capacity reported by the provider');
  });

  it('reports the first failed constraint, in the documented order', () => {
    const bad = offer({ provider: 'vast', connection: 'vast', gpu: gpu('A100', 4, 40), spot: true, location: 'x', country: 'FRA', price: '9', available: false });
    const c: Partial<OfferConstraints> = { gpuCount: 8, countries: ['DEU'], regions: ['us-*'], maxPricePerHour: usd('1') };
    assert.equal(why(bad, { ...c, providersAllow: ['lambda'] }), 'provider vast not in [lambda]');
    assert.equal(why(bad, c), 'GPU A100 40 GiB not in [H100]');
    assert.equal(why({ ...bad, gpu: gpu('H100', 4) }, c), 'GPU count 4 is not 8');
    assert.equal(why({ ...bad, gpu: gpu('H100', 8) }, c), 'spot not allowed');
    assert.equal(why({ ...bad, gpu: gpu('H100', 8), spot: false }, c), 'region x not in [us-*]');
    assert.equal(why({ ...bad, gpu: gpu('H100', 8), spot: false, location: 'us-1' }, c), 'country FRA not in [DEU]');
    assert.equal(why({ ...bad, gpu: gpu('H100', 8), spot: false, location: 'us-1', country: 'DEU' }, c), 'price 9.00/h over max 1.00/h');
    assert.equal(why({ ...bad, gpu: gpu('H100', 8), spot: false, location: 'us-1', country: 'DEU', pricePerHour: usd('1') }, c), 'no capacity reported by the provider');
  });

  it('rankOffers gives the same words and a constraint kind for every rejected offer', () => {
    const offers = [offer({ country: 'FRA' }), offer({ spot: true }), offer({ price: '9' }), offer()];
    const c = constraints({ countries: ['USA'], maxPricePerHour: usd('5') });
    const r = rankOffers(offers, c, { now: NOW });
    assert.equal(r.candidates.length, 1);
    assert.deepEqual(
      r.rejected.map((x) => [x.kind, x.reason]),
      [
        ['country', 'country FRA not in [USA]'],
        ['market', 'spot not allowed'],
        ['price', 'price 9.00/h over max 5.00/h'],
      ],
    );
    for (const x of r.rejected) assert.equal(x.reason, explainRejection(x.offer, c, { now: NOW }));
  });
});
