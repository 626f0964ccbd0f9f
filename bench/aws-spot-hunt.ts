/**
 * bench:aws-spot-hunt: spot hunting across zones against the EC2 replica (SigV4, SDK unmodified),
 * side by side with its peer, zone-by-zone spot tries (SkyPilot's way: one zone, then the next).
 *
 * Scenario per round: spot g6.xlarge in us-east-1 with no spot capacity in the two cheapest zones.
 * - sequential: createInstance per zone until one gives an instance (each refusal is EC2's HTTP
 *   500 InsufficientInstanceCapacity, which the SDK retries with backoff before it surfaces);
 * - parallel: one createInstance with spotHuntZones 3.
 * Reported: time to an instance (median, max) and, for hunts where every zone has capacity, the
 * race window: how long a losing instance lives between its launch's answer and its
 * TerminateInstances answer (the only time two instances of one workload exist).
 *
 *   npm run bench:aws-spot-hunt [-- --rounds 10]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { AwsCredential, type AwsClient } from '../src/providers/aws/index.js';
import { generateSshKeyPair } from '../src/ssh/sshClient.js';
import { writeReplicaCatalog } from '../test/replicas/aws/catalog.js';
import { startAwsReplica } from '../test/replicas/aws/server.js';
import { BACKING, startBackingCloud } from '../test/replicas/backingCatalog.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '10' } } });
const ROUNDS = Number(values.rounds);
const keys = { accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(30).toString('base64') };
const publicKey = generateSshKeyPair('bench').publicKey;
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]!, n: s.length };
};
const fmt = (x: { median: number; max: number; n: number }) => `median ${x.median.toFixed(1)} ms, max ${x.max.toFixed(1)} ms (n=${x.n})`;

const backing = await startBackingCloud();
const replica = await startAwsReplica({ localCloud: backing, ...keys, backing: BACKING, throttling: false });
try {
  const catalogFile = writeReplicaCatalog(mkdtempSync(join(tmpdir(), 'gpuflow-bench-hunt-')));
  const cred = (hunt: number) => new AwsCredential({ refId: 'bench', regions: ['us-east-1'], keys, endpoint: replica.url, catalogFile, testReplica: true, spotHuntZones: hunt });
  const sequential = (await cred(1).makeClient('us-east-1')) as AwsClient;
  const parallel = (await cred(3).makeClient('us-east-1')) as AwsClient;
  const zones = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
  const seqMs: number[] = [];
  const parMs: number[] = [];
  const race: number[] = [];
  let n = 0;
  await sequential.getInstanceTypes({}); // warm the catalog caches of both the same way
  await parallel.getInstanceTypes({});

  replica.admin.setCapacityOff({ type: 'g6.xlarge', zone: 'us-east-1a', market: 'spot' });
  replica.admin.setCapacityOff({ type: 'g6.xlarge', zone: 'us-east-1b', market: 'spot' });
  for (let r = 0; r < ROUNDS; r++) {
    let t = performance.now();
    for (const zone of zones) {
      try {
        const i = await sequential.createInstance({ refId: `seq-${++n}`, location: 'us-east-1', subLocation: zone, instanceType: 'g6.xlarge', publicKey, useSpot: true });
        seqMs.push(performance.now() - t);
        await sequential.terminateInstance(i.cloudId);
        break;
      } catch {
        // the next zone
      }
    }
    t = performance.now();
    const i = await parallel.createInstance({ refId: `par-${++n}`, location: 'us-east-1', subLocation: 'us-east-1a', instanceType: 'g6.xlarge', publicKey, useSpot: true });
    parMs.push(performance.now() - t);
    await parallel.terminateInstance(i.cloudId);
  }
  replica.admin.clearCapacity();
  for (let r = 0; r < ROUNDS; r++) {
    const h = await parallel.createSpotHunting({ refId: `race-${++n}`, location: 'us-east-1', subLocation: 'us-east-1a', instanceType: 'g6.xlarge', publicKey });
    race.push(...h.raceWindowsMs);
    const live = replica.admin.instances().filter((x) => x.tags.get('gpuflow-ref-id') === `race-${n}` && x.state !== 'terminated' && x.state !== 'shutting-down');
    if (live.length !== 1) throw new Error(`${live.length} live instances after a hunt`);
    await parallel.terminateInstance(h.instance.cloudId);
  }
  console.log(`aws spot hunt, ${ROUNDS} rounds, spot capacity only in the third zone (us-east-1c):`);
  console.log(`  sequential zone by zone (SDK maxAttempts 3 per refusal): ${fmt(stats(seqMs))}`);
  console.log(`  parallel, spotHuntZones 3:                             ${fmt(stats(parMs))}`);
  console.log(`  race window (loser launched → terminated), every zone with capacity: ${fmt(stats(race))}`);
} finally {
  await replica.close();
  await backing.close();
}
