/**
 * The provider conformance suite: a TypeScript port of the Brev Cloud SDK validation suite
 * (`internal/validation/suite.go`, see notes/brev-sdk-v1.md §5), reusable by every adapter:
 *
 * ```ts
 * runConformanceSuite({ name: 'lambda', credential: new LambdaCredential(...), stableIds: [...] });
 * ```
 *
 * It registers node:test `describe`/`it` blocks: a catalog part (locations, instance types,
 * capabilities, schemas) and an instance lifecycle part that creates one real instance, checks it
 * end to end over SSH and always terminates it. Checks that depend on an optional capability are
 * reported as skipped with the reason, never silently dropped.
 *
 * Differences from Brev, on purpose:
 * - Image checks that only make sense on a cloud VM (Ubuntu release, systemd, sudo, cloud-init) and
 *   the Docker/MicroK8s firewall checks are not part of this suite; they belong to per-provider
 *   tests that know what image they booted.
 * - It adds: schema validation of every returned object, declared capability ⇒ implemented methods,
 *   create idempotency, tag filters, SSH refusal of a foreign key, stop/start and reboot with waits,
 *   terminate idempotency and the post-terminate state.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it, type TestContext } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { CAPABILITIES, type Capability } from '../../src/providers/sdk/capabilities.js';
import { CAPABILITY_METHODS, LIFECYCLE_TIMEOUTS_MS, type CloudClient, type CloudCredential } from '../../src/providers/sdk/client.js';
import { isAlpha3 } from '../../src/providers/sdk/country.js';
import { InstanceNotFoundError } from '../../src/providers/sdk/errors.js';
import {
  InstanceSchema,
  InstanceTypeSchema,
  LocationSchema,
  type CreateInstanceAttrs,
  type Instance,
  type InstanceType,
  type LifecycleStatus,
} from '../../src/providers/sdk/types.js';
import { waitForInstanceLifecycleStatus } from '../../src/providers/sdk/waiters.js';
import { generateSshKeyPair, sshExec, waitForSsh, type SshTarget } from '../../src/ssh/sshClient.js';

export interface ConformanceConfig {
  /** Shown in test names, e.g. 'local'. */
  name: string;
  /**
   * The credential under test. A function is accepted too, for credentials that only exist once a
   * `before` hook has run (e.g. a daemon started on a random port); it is called on first use.
   */
  credential: CloudCredential | (() => CloudCredential);
  /** Passed to makeClient (default ''). */
  location?: string;
  /** Instance type IDs that must exist in the catalog. When absent the check is reported as skipped. */
  stableIds?: string[];
  /** Pick which instance type to create; default: first available x86_64 type ({@link defaultPickInstanceType}). */
  pickInstanceType?: (types: InstanceType[]) => InstanceType | undefined;
  /** Optional hook after each create (and the idempotent repeat), e.g. to assert provider-side state. */
  afterCreate?: (instance: Instance, client: CloudClient) => void | Promise<void>;
  /** Default true: run the instance lifecycle part (it creates a real, possibly billed, instance). */
  lifecycle?: boolean;
  /** How long SSH may take to come up once running. Default 10 min (contract). */
  sshTimeoutMs?: number;
}

/** Env var that skips the lifecycle part (only the exact value "1" is honoured, and it is logged). */
export const SKIP_LIFECYCLE_ENV = 'GPUFLOW_CONFORMANCE_SKIP_LIFECYCLE';
/** Tag set on the instance at create; its value is the instance's refId. */
export const CONFORMANCE_TAG = 'gpuflow-conformance';

/** Contract: CreateInstance returns within about a minute (Brev: t1 − t0 ≤ 3 min with 1 min slack each side). */
const CREATE_RETURN_LIMIT_MS = 60_000;
const CREATED_AT_SLACK_MS = 60_000;
/** How long the suite waits for a create that has not returned before giving up on it. */
const CREATE_HARD_LIMIT_MS = 5 * 60_000;
const MINUTE = 60_000;

/** The default pick: the first available type that runs x86_64. */
export function defaultPickInstanceType(types: InstanceType[]): InstanceType | undefined {
  return types.find((t) => t.isAvailable && t.supportedArchitectures.includes('x86_64'));
}

/** Maps `uname -m` output to the contract's architecture, or undefined. */
export function archFromUname(machine: string): 'x86_64' | 'arm64' | undefined {
  const m = machine.trim().toLowerCase();
  if (m === 'x86_64' || m === 'amd64') return 'x86_64';
  if (m === 'aarch64' || m === 'arm64') return 'arm64';
  return undefined;
}

function failWithProblems(problems: string[], what: string): void {
  if (problems.length === 0) return;
  const shown = problems.slice(0, 40);
  const more = problems.length > shown.length ? `\n  … and ${problems.length - shown.length} more` : '';
  assert.fail(`${problems.length} ${what}:\n  - ${shown.join('\n  - ')}${more}`);
}

function zodProblems(label: string, result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }): string[] {
  if (result.success || !result.error) return [];
  return result.error.issues.map((i) => `${label}: ${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
}

/** Catalog fields that may change between two calls (prices, availability, deploy estimates). */
function normalizeVolatile(t: InstanceType): Omit<InstanceType, 'basePrice' | 'spotPrice' | 'estimatedDeployTimeMs' | 'isAvailable'> {
  const { basePrice: _b, spotPrice: _s, estimatedDeployTimeMs: _e, isAvailable: _a, ...rest } = t;
  return rest;
}

function withoutPlacement(t: InstanceType): Omit<InstanceType, 'id' | 'subLocation' | 'availableAzs'> {
  const { id: _i, subLocation: _s, availableAzs: _z, ...rest } = t;
  return rest;
}

function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

function sshTargetOf(i: Instance, privateKey: string): SshTarget {
  return { host: i.publicIp, port: i.sshPort, username: i.sshUser, privateKey };
}

export function runConformanceSuite(config: ConformanceConfig): void {
  const label = `conformance[${config.name}]`;
  let credential: CloudCredential | undefined;
  const cred = (): CloudCredential => (credential ??= typeof config.credential === 'function' ? config.credential() : config.credential);
  let clientPromise: Promise<CloudClient> | undefined;
  const getClient = (): Promise<CloudClient> => (clientPromise ??= cred().makeClient(config.location ?? ''));

  describe(`${label}: catalog`, () => {
    let typesOnce: Promise<InstanceType[]> | undefined;
    const allTypes = async (): Promise<InstanceType[]> => (typesOnce ??= (await getClient()).getInstanceTypes({}));

    it('makeClient returns a client that carries the credential identity', async () => {
      const c = await getClient();
      assert.equal(c.getReferenceId(), cred().getReferenceId(), 'client.getReferenceId() must equal the credential’s');
      assert.ok(['locational', 'global'].includes(c.getApiType()), `getApiType() returned ${JSON.stringify(c.getApiType())}`);
      assert.ok(c.getCloudProviderId(), 'getCloudProviderId() must be non-empty');
      for (const [m, v] of [
        ['getInstancePollTimeMs', c.getInstancePollTimeMs()],
        ['getInstanceTypePollTimeMs', c.getInstanceTypePollTimeMs()],
        ['getMaxCreateRequestsPerMinute', c.getMaxCreateRequestsPerMinute()],
      ] as const) {
        assert.ok(Number.isFinite(v) && v > 0, `${m}() must be a positive number, got ${v}`);
      }
    });

    it('declared capabilities are known values and each is implemented', async (t: TestContext) => {
      const c = await getClient();
      const caps = await c.getCapabilities();
      assert.ok(Array.isArray(caps), 'getCapabilities() must return an array');
      const problems: string[] = [];
      const known = new Set<string>(CAPABILITIES);
      for (const cap of caps) if (!known.has(cap)) problems.push(`unknown capability ${JSON.stringify(cap)}`);
      if (new Set(caps).size !== caps.length) problems.push(`duplicate capabilities in ${JSON.stringify(caps)}`);
      const methods = CAPABILITY_METHODS as Partial<Record<Capability, (keyof CloudClient)[]>>;
      for (const cap of caps) {
        for (const m of methods[cap] ?? []) {
          if (typeof c[m] !== 'function') problems.push(`declares '${cap}' but client.${String(m)} is not a function`);
        }
      }
      for (const [cap, ms] of Object.entries(methods) as [Capability, (keyof CloudClient)[]][]) {
        if (!caps.includes(cap) && ms.some((m) => typeof c[m] === 'function')) {
          t.diagnostic(`note: client has ${ms.filter((m) => typeof c[m] === 'function').join(', ')} but does not declare '${cap}' (callers will not use it)`);
        }
      }
      t.diagnostic(`capabilities: ${caps.join(', ') || '(none)'}`);
      failWithProblems(problems, 'capability problems');
    });

    it('getLocations: non-empty, at least one available, every country ISO 3166-1 alpha-3', async (t: TestContext) => {
      const locs = await (await getClient()).getLocations({});
      assert.ok(Array.isArray(locs) && locs.length > 0, 'getLocations({}) returned no locations');
      assert.ok(locs.some((l) => l.available), `no location is available: ${locs.map((l) => l.name).join(', ')}`);
      const bad = locs.filter((l) => !isAlpha3(l.country)).map((l) => `${l.name}: country ${JSON.stringify(l.country)}`);
      failWithProblems(bad, 'locations without a valid ISO 3166-1 alpha-3 country');
      t.diagnostic(`locations: ${locs.map((l) => `${l.name}${l.available ? '' : ' (unavailable)'}`).join(', ')}`);
    });

    it('every location validates against LocationSchema', async () => {
      const locs = await (await getClient()).getLocations({ includeUnavailable: true });
      failWithProblems(
        locs.flatMap((l, i) => zodProblems(`location[${i}] ${l?.name ?? ''}`, LocationSchema.safeParse(l))),
        'LocationSchema violations',
      );
    });

    it('getInstanceTypes returns a non-empty list', async (t: TestContext) => {
      const all = await allTypes();
      assert.ok(Array.isArray(all) && all.length > 0, 'getInstanceTypes({}) returned no instance types');
      t.diagnostic(`${all.length} instance types, ${all.filter((x) => x.isAvailable).length} available`);
    });

    it('getInstanceTypes is deterministic across calls (prices, availability, deploy estimate aside)', async () => {
      const c = await getClient();
      const [a, b] = [await c.getInstanceTypes({}), await c.getInstanceTypes({})];
      assert.equal(b.length, a.length, 'two getInstanceTypes({}) calls returned different counts');
      const byId = (xs: InstanceType[]) => new Map(xs.map((x) => [x.id, normalizeVolatile(x)]));
      const ma = byId(a);
      const mb = byId(b);
      const problems: string[] = [];
      for (const [id, x] of ma) {
        if (!mb.has(id)) problems.push(`${id} missing from the second call`);
        else if (!isDeepStrictEqual(x, mb.get(id))) problems.push(`${id} differs: ${JSON.stringify(x)} vs ${JSON.stringify(mb.get(id))}`);
      }
      for (const id of mb.keys()) if (!ma.has(id)) problems.push(`${id} only in the second call`);
      failWithProblems(problems, 'differences between two catalog calls');
    });

    it('instance type IDs are unique', async () => {
      const all = await allTypes();
      const seen = new Map<string, number>();
      for (const x of all) seen.set(x.id, (seen.get(x.id) ?? 0) + 1);
      failWithProblems(
        [...seen].filter(([, n]) => n > 1).map(([id, n]) => `${id} appears ${n} times`),
        'duplicate instance type IDs',
      );
    });

    it('filtering by instanceTypes:[all[0].type] returns all[0] (ignoring id, subLocation, availableAzs)', async () => {
      const all = await allTypes();
      assert.ok(all.length > 0, 'no instance types');
      const first = all[0];
      const filtered = await (await getClient()).getInstanceTypes({ instanceTypes: [first.type] });
      assert.ok(filtered.length > 0, `getInstanceTypes({instanceTypes:[${JSON.stringify(first.type)}]}) returned nothing`);
      const want = withoutPlacement(first);
      assert.ok(
        filtered.some((x) => isDeepStrictEqual(withoutPlacement(x), want)),
        `no filtered element equals all[0] (${first.id}); got ${filtered.map((x) => x.id).join(', ')}`,
      );
      const others = filtered.filter((x) => x.type !== first.type).map((x) => `${x.id} (type ${x.type})`);
      failWithProblems(others, `types returned by the instanceTypes filter that are not ${first.type}`);
    });

    it("locational listing: {locations:['all']} and {locations:[loc]}", async () => {
      const c = await getClient();
      const everywhere = await c.getInstanceTypes({ locations: ['all'] });
      assert.ok(everywhere.length > 0, "getInstanceTypes({locations:['all']}) returned nothing");
      const loc = everywhere[0].location;
      const here = await c.getInstanceTypes({ locations: [loc] });
      assert.ok(here.length > 0, `getInstanceTypes({locations:[${JSON.stringify(loc)}]}) returned nothing`);
      assert.ok(here.length <= everywhere.length, `location ${loc} lists ${here.length} types, more than all locations (${everywhere.length})`);
      const allIds = new Set(everywhere.map((x) => x.id));
      const problems: string[] = [];
      for (const x of here) {
        if (!allIds.has(x.id)) problems.push(`${x.id} listed for ${loc} but not for all locations`);
        if (!x.location) problems.push(`${x.id} has an empty location`);
      }
      failWithProblems(problems, 'locational listing problems');
    });

    it('stable instance type IDs are present', async (t: TestContext) => {
      if (!config.stableIds || config.stableIds.length === 0) {
        t.skip(`no stableIds configured for ${config.name}`);
        return;
      }
      const ids = new Set((await allTypes()).map((x) => x.id));
      failWithProblems(
        config.stableIds.filter((id) => !ids.has(id)).map((id) => `${id} not in the catalog`),
        'stable instance type IDs missing',
      );
    });

    it('every instance type is priced; priced-by-size storage has pricePerGbHour', async () => {
      const problems: string[] = [];
      for (const x of await allTypes()) {
        if (!x.basePrice) problems.push(`${x.id} has no basePrice`);
        for (const [i, s] of (x.supportedStorage ?? []).entries()) {
          if (s.minSize && !s.pricePerGbHour) problems.push(`${x.id} storage[${i}] has minSize but no pricePerGbHour`);
        }
      }
      failWithProblems(problems, 'pricing problems');
    });

    it('every instance type validates against InstanceTypeSchema', async () => {
      failWithProblems(
        (await allTypes()).flatMap((x, i) => zodProblems(`instanceType[${i}] ${x?.id ?? ''}`, InstanceTypeSchema.safeParse(x))),
        'InstanceTypeSchema violations',
      );
    });
  });

  registerLifecycle(config, label, cred, getClient);
}

interface LifecycleState {
  client?: CloudClient;
  caps?: Capability[];
  picked?: InstanceType;
  key?: { privateKey: string; publicKey: string };
  attrs?: CreateInstanceAttrs & { refId: string; tags: Record<string, string> };
  createStart?: number;
  createEnd?: number;
  createPromise?: Promise<Instance>;
  created?: Instance;
  setupError?: unknown;
  running?: Instance;
  sshTarget?: SshTarget | undefined;
  /** Every cloud ID the suite has seen created, to terminate in `after`. */
  cloudIds: Set<string>;
  /** Cloud IDs whose terminate call returned successfully. */
  terminated: Set<string>;
}

function registerLifecycle(config: ConformanceConfig, label: string, cred: () => CloudCredential, getClient: () => Promise<CloudClient>): void {
  const title = `${label}: instance lifecycle`;
  const env = process.env[SKIP_LIFECYCLE_ENV];
  let skipReason: string | undefined;
  if (config.lifecycle === false) skipReason = `lifecycle: false in the ${config.name} conformance config`;
  else if (env === '1') skipReason = `${SKIP_LIFECYCLE_ENV}=1 is set`;
  else if (env !== undefined && env !== '' && env !== '0') {
    console.warn(`[${label}] ${SKIP_LIFECYCLE_ENV}=${JSON.stringify(env)} ignored: only "1" skips the lifecycle checks`);
  }
  if (skipReason) {
    console.warn(`[${label}] instance lifecycle checks SKIPPED: ${skipReason}`);
    describe(title, () => {
      it('instance lifecycle (create, list, run, SSH, stop/start, reboot, terminate)', { skip: skipReason }, () => {});
    });
    return;
  }

  const sshTimeoutMs = config.sshTimeoutMs ?? LIFECYCLE_TIMEOUTS_MS.runningSsh;
  const st: LifecycleState = { cloudIds: new Set(), terminated: new Set() };

  const setup = (): { client: CloudClient; created: Instance; attrs: NonNullable<LifecycleState['attrs']>; caps: Capability[] } => {
    if (st.setupError !== undefined) {
      throw new Error(`lifecycle setup failed: ${describeError(st.setupError)}`, { cause: st.setupError });
    }
    if (!st.client || !st.created || !st.attrs || !st.caps) assert.fail('lifecycle setup did not run');
    return { client: st.client, created: st.created, attrs: st.attrs, caps: st.caps };
  };
  const running = (): Instance => {
    setup();
    if (!st.running) assert.fail('prerequisite failed: the instance never reached running (see the "reaches running" check)');
    return st.running;
  };
  const sshReady = (): SshTarget => {
    running();
    if (!st.sshTarget) assert.fail('prerequisite failed: SSH never became reachable (see the SSH check)');
    return st.sshTarget;
  };
  const declared = (c: Capability): boolean => setup().caps.includes(c);

  const expectReachable = async (t: TestContext, inst: Instance): Promise<SshTarget> => {
    const target = sshTargetOf(inst, st.key!.privateKey);
    let lastErr: Error | undefined;
    const attempts = await waitForSsh(target, {
      timeoutMs: sshTimeoutMs,
      onAttempt: (_n, e) => {
        lastErr = e;
      },
    }).catch((e: unknown) => {
      throw new Error(`SSH ${target.username}@${target.host}:${target.port} not reachable within ${sshTimeoutMs} ms; last error: ${lastErr?.message ?? describeError(e)}`, { cause: e });
    });
    t.diagnostic(`SSH ${target.username}@${target.host}:${target.port} reachable after ${attempts} attempt(s)`);
    const r = await sshExec(target, 'echo connected', { timeoutMs: 30_000 });
    assert.equal(r.code, 0, `'echo connected' exited ${r.code}: ${r.stderr.trim()}`);
    assert.equal(r.stdout.trim(), 'connected');
    return target;
  };

  const waitFor = async (status: LifecycleStatus, timeoutMs: number): Promise<Instance> => {
    const { client, created } = setup();
    const inst = await waitForInstanceLifecycleStatus(client, created, status, timeoutMs);
    return inst;
  };

  describe(title, () => {
    before(
      async () => {
        try {
          const client = await getClient();
          st.client = client;
          st.caps = await client.getCapabilities();
          const types = await client.getInstanceTypes({});
          const picked = (config.pickInstanceType ?? defaultPickInstanceType)(types);
          if (!picked) {
            throw new Error(
              `no instance type to create among ${types.length}: ${config.pickInstanceType ? 'pickInstanceType returned none' : 'none is available and x86_64'}`,
            );
          }
          st.picked = picked;
          st.key = generateSshKeyPair('gpuflow-conformance');
          const refId = randomUUID();
          st.attrs = {
            refId,
            name: `conformance-${timestamp()}`,
            location: picked.location,
            instanceType: picked.type,
            publicKey: st.key.publicKey,
            tags: { [CONFORMANCE_TAG]: refId },
          };
          st.createStart = Date.now();
          const p = client.createInstance(st.attrs).then((inst) => {
            st.createEnd ??= Date.now();
            if (inst?.cloudId) st.cloudIds.add(inst.cloudId);
            return inst;
          });
          st.createPromise = p;
          p.catch(() => {}); // observed below; this only prevents an unhandled rejection after a timeout
          let timer: NodeJS.Timeout | undefined;
          const hardLimit = new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`createInstance did not return within ${CREATE_HARD_LIMIT_MS} ms`)), CREATE_HARD_LIMIT_MS);
          });
          try {
            st.created = await Promise.race([p, hardLimit]);
          } finally {
            clearTimeout(timer);
            st.createEnd ??= Date.now();
          }
        } catch (e) {
          st.setupError = e;
        }
      },
      { timeout: CREATE_HARD_LIMIT_MS + 5 * MINUTE },
    );

    after(
      async () => {
        const client = st.client;
        if (!client) return;
        // A create that outlived the hard limit may still produce an instance: give it a while.
        if (st.createPromise && !st.created) {
          await Promise.race([st.createPromise.catch(() => undefined), sleep(CREATE_HARD_LIMIT_MS)]);
        }
        // Anything carrying our refId that we did not see (e.g. a create that failed half-way).
        const orphans: string[] = [];
        if (st.attrs) {
          try {
            for (const i of await client.listInstances({})) {
              if (i.refId !== st.attrs.refId || i.status.lifecycleStatus === 'terminated' || st.cloudIds.has(i.cloudId)) continue;
              st.cloudIds.add(i.cloudId);
              orphans.push(`${i.cloudId} (${i.status.lifecycleStatus})`);
            }
          } catch (e) {
            console.warn(`[${label}] cleanup: listInstances failed, relying on known IDs: ${describeError(e)}`);
          }
        }
        const leaks: string[] = [];
        for (const id of st.cloudIds) {
          if (st.terminated.has(id)) continue;
          try {
            await client.terminateInstance(id);
            st.terminated.add(id);
          } catch (e) {
            if (e instanceof InstanceNotFoundError) continue;
            leaks.push(`${id}: ${describeError(e)}`);
          }
        }
        const problems: string[] = [];
        if (leaks.length > 0) problems.push(`cleanup could not terminate ${leaks.length} instance(s); terminate them by hand:\n  ${leaks.join('\n  ')}`);
        if (orphans.length > 0 && st.setupError !== undefined) {
          problems.push(`createInstance failed but left instance(s) behind (contract: no instance on error); terminated: ${orphans.join(', ')}`);
        } else if (orphans.length > 0) {
          problems.push(`instance(s) with the suite's refId that create never returned (terminated): ${orphans.join(', ')}`);
        }
        if (problems.length > 0) throw new Error(problems.join('\n'));
      },
      { timeout: CREATE_HARD_LIMIT_MS + 10 * MINUTE },
    );

    it('createInstance returns an instance within 60 s', async (t: TestContext) => {
      const { created } = setup();
      const took = st.createEnd! - st.createStart!;
      t.diagnostic(`created ${created.cloudId} (${st.picked!.id}) in ${took} ms`);
      assert.ok(took <= CREATE_RETURN_LIMIT_MS, `createInstance took ${took} ms; the contract allows ${CREATE_RETURN_LIMIT_MS} ms`);
    });

    if (config.afterCreate) {
      const hook = config.afterCreate;
      it('afterCreate hook (provider-side state)', async () => {
        const { client, created } = setup();
        await hook(created, client);
      });
    }

    it('createdAt lies within [start − 1 min, end + 1 min]', () => {
      const { created } = setup();
      const at = Date.parse(created.createdAt);
      assert.ok(Number.isFinite(at), `createdAt ${JSON.stringify(created.createdAt)} is not a date`);
      const lo = st.createStart! - CREATED_AT_SLACK_MS;
      const hi = st.createEnd! + CREATED_AT_SLACK_MS;
      assert.ok(
        at >= lo && at <= hi,
        `createdAt ${created.createdAt} outside [${new Date(lo).toISOString()}, ${new Date(hi).toISOString()}]`,
      );
    });

    it('returned instance echoes the request (refId, location, instanceType, instanceTypeId, cloudCredRefId)', (t: TestContext) => {
      const { created, attrs } = setup();
      const problems: string[] = [];
      const eq = (field: string, got: unknown, want: unknown) => {
        if (got !== want) problems.push(`${field}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      };
      eq('refId', created.refId, attrs.refId);
      eq('location', created.location, attrs.location);
      if (attrs.subLocation) eq('subLocation', created.subLocation, attrs.subLocation);
      eq('instanceType', created.instanceType, attrs.instanceType);
      eq('instanceTypeId', created.instanceTypeId, st.picked!.id);
      eq('cloudCredRefId', created.cloudCredRefId, cred().getReferenceId());
      if (!created.cloudId) problems.push('cloudId is empty');
      if (created.name !== attrs.name) t.diagnostic(`note: name ${JSON.stringify(created.name)} differs from requested ${JSON.stringify(attrs.name)}`);
      failWithProblems(problems, 'fields differ from the create request');
    });

    it('returned instance validates against InstanceSchema', () => {
      const { created } = setup();
      failWithProblems(zodProblems(`instance ${created.cloudId}`, InstanceSchema.safeParse(created)), 'InstanceSchema violations');
    });

    it('createInstance with the same refId returns the same instance (create-instance-idempotent)', async (t: TestContext) => {
      const { client, created, attrs } = setup();
      if (!declared('create-instance-idempotent')) {
        t.skip("'create-instance-idempotent' not declared");
        return;
      }
      const again = await client.createInstance(attrs);
      if (again?.cloudId) st.cloudIds.add(again.cloudId);
      assert.equal(again.cloudId, created.cloudId, 'a repeated create with the same refId made a second instance');
      assert.equal(again.refId, attrs.refId);
      if (config.afterCreate) await config.afterCreate(again, client);
    });

    const checkListed = (found: Instance[], how: string): void => {
      const { created, attrs } = setup();
      assert.ok(found.length > 0, `listInstances(${how}) returned nothing`);
      const mine = found.filter((i) => i.cloudId === created.cloudId);
      assert.ok(mine.length > 0, `listInstances(${how}) does not contain ${created.cloudId}; got ${found.map((i) => i.cloudId).join(', ')}`);
      assert.equal(mine.length, 1, `listInstances(${how}) lists ${created.cloudId} ${mine.length} times`);
      const i = mine[0];
      assert.equal(i.location, created.location, `listed location differs (${how})`);
      assert.ok(i.refId, `listed refId is empty (${how})`);
      assert.equal(i.refId, attrs.refId, `listed refId differs (${how})`);
      assert.ok(i.cloudCredRefId, `listed cloudCredRefId is empty (${how})`);
      assert.equal(i.cloudCredRefId, cred().getReferenceId(), `listed cloudCredRefId differs (${how})`);
    };

    it('listInstances({locations:[loc]}) contains the instance', async () => {
      const { client, created } = setup();
      checkListed(await client.listInstances({ locations: [created.location] }), `{locations:[${JSON.stringify(created.location)}]}`);
    });

    it('listInstances({instanceIds:[id]}) contains the instance', async () => {
      const { client, created } = setup();
      const found = await client.listInstances({ instanceIds: [created.cloudId] });
      checkListed(found, `{instanceIds:[${JSON.stringify(created.cloudId)}]}`);
      const strangers = found.filter((i) => i.cloudId !== created.cloudId).map((i) => i.cloudId);
      failWithProblems(strangers, 'other instances returned by the instanceIds filter');
    });

    it('listInstances({tagFilters}) finds the instance by the tag set at create (tags)', async (t: TestContext) => {
      const { client, created, attrs } = setup();
      if (!declared('tags')) {
        t.skip("'tags' not declared");
        return;
      }
      assert.equal(created.tags?.[CONFORMANCE_TAG], attrs.refId, `created instance does not carry tag ${CONFORMANCE_TAG}`);
      checkListed(await client.listInstances({ tagFilters: { [CONFORMANCE_TAG]: [attrs.refId] } }), `{tagFilters:{${CONFORMANCE_TAG}:[refId]}}`);
      const other = await client.listInstances({ tagFilters: { [CONFORMANCE_TAG]: [`not-${attrs.refId}`] } });
      assert.ok(!other.some((i) => i.cloudId === created.cloudId), 'a tag filter with a different value still lists the instance');
    });

    it('reaches running within 20 min', { timeout: LIFECYCLE_TIMEOUTS_MS.pendingToRunning + MINUTE }, async (t: TestContext) => {
      const started = Date.now();
      st.running = await waitFor('running', LIFECYCLE_TIMEOUTS_MS.pendingToRunning);
      t.diagnostic(`running after ${Date.now() - started} ms of waiting`);
      failWithProblems(zodProblems(`running instance ${st.running.cloudId}`, InstanceSchema.safeParse(st.running)), 'InstanceSchema violations');
    });

    it('running instance has sshUser, sshPort and publicIp', () => {
      const i = running();
      const problems: string[] = [];
      if (!i.sshUser) problems.push('sshUser is empty');
      if (!i.sshPort) problems.push('sshPort is 0');
      if (!i.publicIp) problems.push('publicIp is empty');
      failWithProblems(problems, 'SSH fields missing');
    });

    it('SSH with the injected key is reachable and runs `echo connected`', { timeout: sshTimeoutMs + 2 * MINUTE }, async (t: TestContext) => {
      const i = running();
      st.sshTarget = await expectReachable(t, i);
    });

    it('SSH with a different key is refused', { timeout: 2 * MINUTE }, async () => {
      const target = sshReady();
      const stranger = generateSshKeyPair('gpuflow-conformance-stranger');
      await assert.rejects(
        sshExec({ ...target, privateKey: stranger.privateKey }, 'echo connected', { timeoutMs: 30_000 }),
        (e: Error) => {
          assert.match(e.message, /authentication/i, `expected an authentication failure, got: ${e.message}`);
          return true;
        },
        'SSH with a key that was not injected was accepted',
      );
    });

    it('host: `uname -m` is x86_64 or arm64', { timeout: 2 * MINUTE }, async (t: TestContext) => {
      const target = sshReady();
      const r = await sshExec(target, 'uname -m', { timeoutMs: 60_000 });
      assert.equal(r.code, 0, `uname -m exited ${r.code}: ${r.stderr.trim()}`);
      const arch = archFromUname(r.stdout);
      assert.ok(arch, `uname -m printed ${JSON.stringify(r.stdout.trim())}, which is neither x86_64 nor arm64`);
      if (st.picked && !st.picked.supportedArchitectures.includes(arch)) {
        t.diagnostic(`note: host is ${arch} but ${st.picked.id} lists ${st.picked.supportedArchitectures.join(', ')}`);
      }
    });

    it('host: `cd ~ && pwd` is a non-empty absolute path', { timeout: 2 * MINUTE }, async (t: TestContext) => {
      const target = sshReady();
      const r = await sshExec(target, 'cd ~ && pwd', { timeoutMs: 60_000 });
      assert.equal(r.code, 0, `'cd ~ && pwd' exited ${r.code}: ${r.stderr.trim()}`);
      const home = r.stdout.trim();
      assert.ok(home.startsWith('/') && home.length > 1, `home directory ${JSON.stringify(home)} is not an absolute path`);
      t.diagnostic(`home: ${home}`);
    });

    it(
      'stop → stopped → start → running → SSH works again (stop-start-instance)',
      { timeout: LIFECYCLE_TIMEOUTS_MS.runningToStopped + LIFECYCLE_TIMEOUTS_MS.stoppedToRunning + sshTimeoutMs + 2 * MINUTE },
      async (t: TestContext) => {
        const { client } = setup();
        if (!declared('stop-start-instance')) {
          t.skip("'stop-start-instance' not declared");
          return;
        }
        const i = running();
        if (!i.stoppable) {
          t.skip(`instance ${i.cloudId} is not stoppable`);
          return;
        }
        assert.ok(client.stopInstance && client.startInstance, "declares 'stop-start-instance' without stopInstance/startInstance");
        await client.stopInstance(i.cloudId);
        await waitFor('stopped', LIFECYCLE_TIMEOUTS_MS.runningToStopped);
        await client.startInstance(i.cloudId);
        st.running = await waitFor('running', LIFECYCLE_TIMEOUTS_MS.stoppedToRunning);
        st.sshTarget = undefined;
        st.sshTarget = await expectReachable(t, st.running);
      },
    );

    it(
      'reboot → running → SSH works again (reboot-instance)',
      { timeout: LIFECYCLE_TIMEOUTS_MS.stoppedToRunning + sshTimeoutMs + 2 * MINUTE },
      async (t: TestContext) => {
        const { client } = setup();
        if (!declared('reboot-instance')) {
          t.skip("'reboot-instance' not declared");
          return;
        }
        const i = running();
        if (!i.rebootable) {
          t.skip(`instance ${i.cloudId} is not rebootable`);
          return;
        }
        assert.ok(client.rebootInstance, "declares 'reboot-instance' without rebootInstance");
        await client.rebootInstance(i.cloudId);
        st.running = await waitFor('running', LIFECYCLE_TIMEOUTS_MS.stoppedToRunning);
        st.sshTarget = undefined;
        st.sshTarget = await expectReachable(t, st.running);
      },
    );

    it('terminateInstance returns', { timeout: 5 * MINUTE }, async () => {
      const { client, created } = setup();
      await client.terminateInstance(created.cloudId);
      st.terminated.add(created.cloudId);
    });

    it('a second terminateInstance also succeeds (idempotent)', { timeout: 5 * MINUTE }, async () => {
      const { client, created } = setup();
      assert.ok(st.terminated.has(created.cloudId), 'prerequisite failed: the first terminate did not succeed');
      await client.terminateInstance(created.cloudId);
    });

    it(
      'after terminate, getInstance shows terminated or throws InstanceNotFoundError',
      { timeout: LIFECYCLE_TIMEOUTS_MS.runningToTerminated + MINUTE },
      async (t: TestContext) => {
        const { client, created } = setup();
        assert.ok(st.terminated.has(created.cloudId), 'prerequisite failed: terminate did not succeed');
        const deadline = Date.now() + LIFECYCLE_TIMEOUTS_MS.runningToTerminated;
        const seen: string[] = [];
        for (;;) {
          let status: LifecycleStatus;
          try {
            status = (await client.getInstance(created.cloudId)).status.lifecycleStatus;
          } catch (e) {
            if (e instanceof InstanceNotFoundError) {
              t.diagnostic(`getInstance throws InstanceNotFoundError (statuses seen: ${seen.join(' → ') || 'none'})`);
              return;
            }
            throw new Error(`getInstance after terminate threw ${describeError(e)}, not InstanceNotFoundError`, { cause: e });
          }
          if (seen[seen.length - 1] !== status) seen.push(status);
          if (status === 'terminated') {
            t.diagnostic(`statuses seen: ${seen.join(' → ')}`);
            return;
          }
          assert.notEqual(status, 'failed', `instance went to failed after terminate (seen: ${seen.join(' → ')})`);
          if (Date.now() >= deadline) assert.fail(`instance not terminated within ${LIFECYCLE_TIMEOUTS_MS.runningToTerminated} ms (seen: ${seen.join(' → ')})`);
          await sleep(2_000);
        }
      },
    );
  });
}
