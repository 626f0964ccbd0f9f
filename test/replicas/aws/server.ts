/**
 * A stateful replica of the Amazon EC2 API (Query protocol, API version 2016-11-15) on 127.0.0.1,
 * after AWS's Smithy model for EC2 (see README.md): form-encoded `Action=...` requests, SigV4
 * verified on every request, XML answers with the model's element names, EC2's error XML, and
 * instances whose machines are real local cloud sshd instances. @aws-sdk/client-ec2 talks to it
 * unmodified (`endpoint: replica.url`).
 */
import { randomBytes, randomUUID, createHash } from 'node:crypto';
import type http from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { XMLBuilder } from 'fast-xml-parser';
import type { Instance as BackingInstance } from '../../../src/providers/sdk/types.js';
import { BackingCloud, closeServer, ReplicaResponse, serveReplica, TokenBucket, type MalformFault, type RequestRecord } from '../shared.js';
import { AWS_REPLICA_REGIONS, AWS_REPLICA_TYPES, type ReplicaInstanceType, type ReplicaRegion } from './catalog.js';

const XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const API_VERSION = '2016-11-15';
const OWNER_ID = '123456789012';
/** The account that owns AWS's Deep Learning AMIs. */
const DLAMI_OWNER_ID = '898082745236';
const MAX_BODY = 1 << 20;
/** SigV4 requests older or newer than this are refused (EC2: "RequestExpired"). */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;

const STATE_CODES = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopping: 64, stopped: 80 } as const;
type StateName = keyof typeof STATE_CODES;

/** HTTP status of each error code the replica answers with (EC2 error codes page: client 4xx, server 5xx). */
const ERROR_STATUS: Record<string, number> = {
  InsufficientInstanceCapacity: 500,
  InternalError: 500,
  Unavailable: 503,
  RequestLimitExceeded: 503,
  AuthFailure: 401,
  UnauthorizedOperation: 403,
  SignatureDoesNotMatch: 403,
  RequestExpired: 400,
};

export class Ec2Error extends ReplicaResponse {
  constructor(
    readonly code: string,
    message: string,
    status = ERROR_STATUS[code] ?? 400,
  ) {
    super(status, errorXml(code, message), { 'content-type': 'text/xml;charset=UTF-8' });
  }
}

function errorXml(code: string, message: string): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`;
}

/** A one-shot (count) error for matching requests: any EC2 code, e.g. RequestLimitExceeded or VcpuLimitExceeded. */
export interface Ec2Fault {
  code: string;
  message?: string;
  status?: number;
  action?: string;
  region?: string;
  count: number;
}

/** Capacity switched off for matching launches (persistent until cleared). */
export interface CapacityOff {
  type?: string;
  zone?: string;
  region?: string;
  market?: 'spot' | 'on-demand';
}

export interface ReplicaEc2Instance {
  id: string;
  region: string;
  zone: string;
  type: string;
  imageId: string;
  keyName: string;
  groupIds: string[];
  clientToken: string;
  reservationId: string;
  tags: Map<string, string>;
  spot: boolean;
  spotRequestId?: string;
  state: StateName;
  stateReason?: { code: string; message: string };
  transitionReason: string;
  launchTime: Date;
  backingId: string;
  userData: string;
  rootDevice: string;
  volumeSize?: number;
  publicIp: string;
  privateIp: string;
  /** The IMDS `spot/instance-action` notice once AWS decided to take the instance back. */
  instanceAction?: { action: 'terminate'; time: string };
}

interface KeyPair {
  id: string;
  name: string;
  material: string;
  fingerprint: string;
}
interface SecurityGroup {
  id: string;
  name: string;
  description: string;
  ingress: { proto: string; from: number; to: number; cidrs: string[]; cidrs6: string[] }[];
}
interface Image {
  id: string;
  name: string;
  created: string;
}
interface RegionState {
  keys: Map<string, KeyPair>;
  groups: Map<string, SecurityGroup>;
  images: Image[];
}

export interface AwsReplicaOptions {
  localCloud: { url: string; token: string };
  accessKeyId: string;
  secretAccessKey: string;
  backing?: { type: string; location: string };
  regions?: readonly ReplicaRegion[];
  types?: readonly ReplicaInstanceType[];
  /** EC2's request throttling token buckets (API docs "Request throttling"); false turns them off. */
  throttling?: boolean;
  /** How long a spot notice runs before AWS takes the instance (2 min at AWS; short in tests). */
  spotNoticeMs?: number;
  host?: string;
  port?: number;
}

export interface AwsReplicaAdmin {
  /** The next `count` matching requests fail with this EC2 error. */
  failNext(f: Partial<Ec2Fault> & { code: string }): void;
  /**
   * The next `count` 200 answers to `action` are spoiled (an HTML page, truncated XML, or every
   * leaf of the wrong type), after the action was carried out, as a broken proxy would.
   */
  malformNext(f: Pick<MalformFault, 'count' | 'kind'> & { action: string }): void;
  /** No capacity for matching launches: InsufficientInstanceCapacity (on-demand and spot wording). */
  setCapacityOff(c: CapacityOff): void;
  clearCapacity(): void;
  /** Account limits: live spot instances (MaxSpotInstanceCountExceeded) and on-demand vCPUs (VcpuLimitExceeded). */
  setLimits(l: { spotInstances?: number; onDemandVcpus?: number }): void;
  /** Actions this key may not call (UnauthorizedOperation); replaces the list, [] allows all. */
  deny(actions: string[]): void;
  setSpotPrice(type: string, zone: string, price: string): void;
  /**
   * AWS takes a spot instance back: the IMDS notice is posted at once, and `spotNoticeMs` later
   * the instance goes shutting-down → terminated with `Server.SpotInstanceTermination`.
   */
  interrupt(instanceId: string): Promise<void>;
  instances(): ReplicaEc2Instance[];
  instance(id: string): ReplicaEc2Instance | undefined;
  /** Launch requests as received (parameters, never the credentials). */
  launches(): Record<string, string>[];
  keyPairs(region: string): { name: string; material: string }[];
  securityGroups(region: string): SecurityGroup[];
  backingId(instanceId: string): string | undefined;
}

export interface AwsReplicaHandle {
  url: string;
  admin: AwsReplicaAdmin;
  requests: (RequestRecord & { action?: string; region?: string })[];
  close(): Promise<void>;
}

const hex = (n: number) => randomBytes(Math.ceil(n / 2)).toString('hex').slice(0, n);

/** `Prefix.1`, `Prefix.2`, ... values. */
function listParam(p: URLSearchParams, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; p.has(`${prefix}.${i}`); i++) out.push(p.get(`${prefix}.${i}`)!);
  return out;
}
/** Indices N of `Prefix.N.*` keys. */
function indices(p: URLSearchParams, prefix: string): number[] {
  const out = new Set<number>();
  const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)\\.`);
  for (const k of p.keys()) {
    const m = re.exec(k);
    if (m) out.add(Number(m[1]));
  }
  return [...out].sort((a, b) => a - b);
}
function filters(p: URLSearchParams): { name: string; values: string[] }[] {
  return indices(p, 'Filter').map((i) => ({ name: p.get(`Filter.${i}.Name`) ?? '', values: listParam(p, `Filter.${i}.Value`) }));
}
/** EC2 filter values are globs with * and ?. */
function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(value);
}

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: false });
function items<T>(xs: T[]): { item: T[] } | '' {
  return xs.length ? { item: xs } : '';
}
function respond(action: string, body: Record<string, unknown>): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ [`${action}Response`]: { '@_xmlns': XMLNS, requestId: randomUUID(), ...body } }) as string}`;
}

export async function startAwsReplica(opts: AwsReplicaOptions): Promise<AwsReplicaHandle> {
  const regions = opts.regions ?? AWS_REPLICA_REGIONS;
  const types = opts.types ?? AWS_REPLICA_TYPES;
  const noticeMs = opts.spotNoticeMs ?? 2_000;
  const backing = new BackingCloud(opts.localCloud, opts.backing, 'aws');
  const signer = new SignatureV4({ service: 'ec2', region: 'us-east-1', credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey }, sha256: Sha256 });
  const requests: AwsReplicaHandle['requests'] = [];
  const faults: Ec2Fault[] = [];
  const capacityOff: CapacityOff[] = [];
  const limits = { spotInstances: Infinity, onDemandVcpus: Infinity };
  const denied = new Set<string>();
  const instances = new Map<string, ReplicaEc2Instance>();
  const launches: Record<string, string>[] = [];
  const regionState = new Map<string, RegionState>(
    regions.map((r) => [
      r.name,
      {
        keys: new Map(),
        groups: new Map(),
        images: [
          { id: `ami-${hex(17)}`, name: 'Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04) 20260915', created: '2026-09-15T10:00:00.000Z' },
          { id: `ami-${hex(17)}`, name: 'Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04) 20261120', created: '2026-11-20T10:00:00.000Z' },
        ],
      },
    ]),
  );
  // Spot price history per type and zone, newest last.
  const spotHistory = new Map<string, { at: Date; price: string }[]>();
  const startedAt = new Date(Date.now() - 3_600_000);
  for (const r of regions) {
    r.zones.forEach((z, zi) => {
      for (const t of types) {
        const price = (Number(t.spot) * (1 + zi * 0.05)).toFixed(6);
        spotHistory.set(`${t.type}\u0000${z.zoneName}`, [{ at: startedAt, price }]);
      }
    });
  }
  // EC2's token buckets (API reference, "Request throttling"): mutating 200 / 5 per s, non-mutating
  // 100 / 20 per s, and RunInstances' resource bucket 1000 / 2 per s, per account and region.
  const buckets = new Map<string, TokenBucket>();
  const MUTATING = new Set(['RunInstances', 'TerminateInstances', 'RebootInstances', 'CreateTags', 'ImportKeyPair', 'CreateSecurityGroup', 'AuthorizeSecurityGroupIngress']);
  function throttle(action: string, region: string): void {
    if (opts.throttling === false) return;
    const kind = MUTATING.has(action) ? 'mutating' : 'describe';
    const key = `${region}\u0000${kind}`;
    let b = buckets.get(key);
    if (!b) buckets.set(key, (b = kind === 'mutating' ? new TokenBucket(5, 200) : new TokenBucket(20, 100)));
    if (!b.take().ok) throw new Ec2Error('RequestLimitExceeded', 'Request limit exceeded.');
  }

  const regionOf = (name: string): ReplicaRegion => {
    const r = regions.find((x) => x.name === name);
    if (!r) throw new Ec2Error('AuthFailure', `AWS was not able to validate the provided access credentials (region ${name} is not served here)`);
    return r;
  };

  // ---- SigV4 -----------------------------------------------------------------------------------
  async function verify(req: http.IncomingMessage, body: string): Promise<{ region: string }> {
    const auth = req.headers.authorization ?? '';
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m) throw new Ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials');
    const [, akid, day, region, service, signedHeaders, signature] = m as unknown as [string, string, string, string, string, string, string];
    if (akid !== opts.accessKeyId) throw new Ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials');
    if (service !== 'ec2') throw new Ec2Error('AuthFailure', `Credential should be scoped to correct service: 'ec2'.`);
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    const dm = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    if (!dm || !amzDate.startsWith(day)) throw new Ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials');
    const signingDate = new Date(`${dm[1]}-${dm[2]}-${dm[3]}T${dm[4]}:${dm[5]}:${dm[6]}Z`);
    if (Math.abs(Date.now() - signingDate.getTime()) > MAX_CLOCK_SKEW_MS) throw new Ec2Error('RequestExpired', `Request has expired. Timestamp date is ${amzDate}`);
    const names = signedHeaders.split(';');
    const headers: Record<string, string> = {};
    for (const h of names) {
      const v = req.headers[h];
      if (v === undefined) throw new Ec2Error('AuthFailure', `signed header ${h} is missing`);
      headers[h] = Array.isArray(v) ? v.join(',') : v;
    }
    const url = new URL(req.url ?? '/', 'http://replica');
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const hostHeader = headers.host ?? String(req.headers.host ?? '');
    const signed = await signer.sign(
      { method: req.method ?? 'POST', protocol: 'http:', hostname: hostHeader.split(':')[0]!, path: url.pathname, query, headers, body },
      { signingDate, signingRegion: region, signingService: 'ec2', signableHeaders: new Set(names) },
    );
    const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? signed.headers.Authorization ?? ''))?.[1];
    if (expected !== signature) {
      throw new Ec2Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.');
    }
    return { region };
  }

  // ---- instances ---------------------------------------------------------------------------------
  async function refresh(i: ReplicaEc2Instance): Promise<void> {
    if (i.state === 'terminated') return;
    const b: BackingInstance | undefined = await backing.get(i.backingId);
    const bs = b?.status.lifecycleStatus;
    if (b) {
      i.publicIp = b.publicIp || i.publicIp;
      if (b.sshPort) i.tags.set('gpuflow-replica:ssh-port', String(b.sshPort));
      if (b.sshUser) i.tags.set('gpuflow-replica:ssh-user', b.sshUser);
      i.tags.set('gpuflow-replica:not-privileged', 'true');
    }
    if (i.state === 'pending' && bs === 'running') i.state = 'running';
    else if (i.state === 'shutting-down' && (!b || bs === 'terminated')) finish(i);
    else if ((i.state === 'running' || i.state === 'pending') && (!b || bs === 'terminated' || bs === 'failed')) {
      // The machine died under the instance: a host failure, as EC2 reports one.
      i.stateReason = { code: 'Server.InternalError', message: 'Server.InternalError: Internal error on launch' };
      finish(i);
    }
  }

  function gmt(d = new Date()): string {
    return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19)} GMT`;
  }

  function finish(i: ReplicaEc2Instance): void {
    i.state = 'terminated';
    i.publicIp = '';
    i.tags.delete('gpuflow-replica:ssh-port');
  }

  async function beginTerminate(i: ReplicaEc2Instance, reason: { code: string; message: string }, transition: string): Promise<void> {
    if (i.state === 'terminated' || i.state === 'shutting-down') return;
    i.state = 'shutting-down';
    i.stateReason = reason;
    i.transitionReason = `${transition} (${gmt()})`;
    await backing.terminate(i.backingId).catch(() => undefined);
  }

  function instanceXml(i: ReplicaEc2Instance): Record<string, unknown> {
    const t = types.find((x) => x.type === i.type);
    return {
      instanceId: i.id,
      imageId: i.imageId,
      instanceState: { code: STATE_CODES[i.state], name: i.state },
      privateDnsName: `ip-${i.privateIp.replace(/\./g, '-')}.ec2.internal`,
      dnsName: i.publicIp ? `ec2-${i.publicIp.replace(/\./g, '-')}.compute-1.amazonaws.com` : '',
      reason: i.transitionReason,
      keyName: i.keyName,
      amiLaunchIndex: 0,
      productCodes: '',
      instanceType: i.type,
      launchTime: i.launchTime.toISOString(),
      placement: { availabilityZone: i.zone, groupName: '', tenancy: 'default' },
      monitoring: { state: 'disabled' },
      subnetId: 'subnet-0default',
      vpcId: 'vpc-0default',
      privateIpAddress: i.privateIp,
      ...(i.publicIp ? { ipAddress: i.publicIp } : {}),
      sourceDestCheck: true,
      groupSet: items(i.groupIds.map((g) => ({ groupId: g, groupName: [...regionState.get(i.region)!.groups.values()].find((x) => x.id === g)?.name ?? '' }))),
      ...(i.stateReason ? { stateReason: { code: i.stateReason.code, message: i.stateReason.message } } : {}),
      architecture: 'x86_64',
      rootDeviceType: 'ebs',
      rootDeviceName: i.rootDevice,
      blockDeviceMapping: '',
      ...(i.spot ? { instanceLifecycle: 'spot', spotInstanceRequestId: i.spotRequestId } : {}),
      virtualizationType: 'hvm',
      clientToken: i.clientToken,
      tagSet: items([...i.tags].map(([key, value]) => ({ key, value }))),
      hypervisor: 'xen',
      ebsOptimized: true,
      enaSupport: true,
      cpuOptions: { coreCount: Math.max(1, (t?.vcpus ?? 2) / 2), threadsPerCore: 2 },
    };
  }

  function findInstance(region: string, id: string): ReplicaEc2Instance {
    const i = instances.get(id);
    if (!i || i.region !== region) {
      if (!/^i-[0-9a-f]{8,17}$/.test(id)) throw new Ec2Error('InvalidInstanceID.Malformed', `Invalid id: "${id}"`);
      throw new Ec2Error('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    }
    return i;
  }

  function tagSpecs(p: URLSearchParams, resource: string): Map<string, string> {
    const tags = new Map<string, string>();
    for (const n of indices(p, 'TagSpecification')) {
      if (p.get(`TagSpecification.${n}.ResourceType`) !== resource) continue;
      for (const t of indices(p, `TagSpecification.${n}.Tag`)) {
        const key = p.get(`TagSpecification.${n}.Tag.${t}.Key`) ?? '';
        if (key.startsWith('aws:')) throw new Ec2Error('InvalidParameterValue', `Tag keys starting with 'aws:' are reserved for internal use`);
        tags.set(key, p.get(`TagSpecification.${n}.Tag.${t}.Value`) ?? '');
      }
    }
    return tags;
  }

  // ---- actions -----------------------------------------------------------------------------------
  type ActionHandler = (p: URLSearchParams, region: string) => Promise<Record<string, unknown>>;
  const actions: Record<string, ActionHandler> = {
    async DescribeRegions(p) {
      const names = listParam(p, 'RegionName');
      for (const n of names) if (!regions.some((r) => r.name === n)) throw new Ec2Error('InvalidParameterValue', `Invalid region: ${n}`);
      const list = regions.filter((r) => names.length === 0 || names.includes(r.name));
      return { regionInfo: items(list.map((r) => ({ regionName: r.name, regionEndpoint: `ec2.${r.name}.amazonaws.com`, optInStatus: 'opt-in-not-required' }))) };
    },

    async DescribeAvailabilityZones(p, region) {
      const r = regionOf(region);
      const names = listParam(p, 'ZoneName');
      let zones = r.zones.filter((z) => names.length === 0 || names.includes(z.zoneName));
      for (const f of filters(p)) {
        const get = (z: (typeof zones)[number]) =>
          ({ 'region-name': region, 'zone-type': 'availability-zone', 'zone-name': z.zoneName, 'zone-id': z.zoneId, state: 'available', 'opt-in-status': 'opt-in-not-required' })[f.name];
        if (get(zones[0] ?? r.zones[0]!) === undefined) throw new Ec2Error('InvalidParameterValue', `The filter '${f.name}' is invalid`);
        zones = zones.filter((z) => f.values.some((v) => globMatch(v, get(z)!)));
      }
      return {
        availabilityZoneInfo: items(
          zones.map((z) => ({ zoneName: z.zoneName, zoneState: 'available', regionName: region, zoneId: z.zoneId, zoneType: 'availability-zone', optInStatus: 'opt-in-not-required', groupName: region, networkBorderGroup: region, messageSet: '' })),
        ),
      };
    },

    async DescribeInstanceTypes(p) {
      const names = listParam(p, 'InstanceType');
      const unknown = names.filter((n) => !types.some((t) => t.type === n));
      if (unknown.length) throw new Ec2Error('InvalidInstanceType', `The following supplied instance types do not exist: [${unknown.join(', ')}]`);
      const list = types.filter((t) => names.length === 0 || names.includes(t.type));
      return {
        instanceTypeSet: items(
          list.map((t) => ({
            instanceType: t.type,
            currentGeneration: true,
            freeTierEligible: false,
            supportedUsageClasses: items(['on-demand', 'spot']),
            supportedRootDeviceTypes: items(['ebs']),
            supportedVirtualizationTypes: items(['hvm']),
            bareMetal: false,
            hypervisor: 'nitro',
            processorInfo: { supportedArchitectures: items(['x86_64']), sustainedClockSpeedInGhz: 3.1 },
            vCpuInfo: { defaultVCpus: t.vcpus, defaultCores: t.vcpus / 2, defaultThreadsPerCore: 2 },
            memoryInfo: { sizeInMiB: t.memoryMiB },
            instanceStorageSupported: false,
            ...(t.gpu.count
              ? { gpuInfo: { gpus: items([{ name: t.gpu.name, manufacturer: t.gpu.manufacturer, count: t.gpu.count, memoryInfo: { sizeInMiB: t.gpu.memoryMiB } }]), totalGpuMemoryInMiB: t.gpu.memoryMiB * t.gpu.count } }
              : {}),
          })),
        ),
      };
    },

    async DescribeSpotPriceHistory(p, region) {
      const r = regionOf(region);
      const typeNames = listParam(p, 'InstanceType');
      const products = listParam(p, 'ProductDescription');
      const zone = p.get('AvailabilityZone');
      const start = p.get('StartTime') ? new Date(p.get('StartTime')!) : new Date(0);
      const end = p.get('EndTime') ? new Date(p.get('EndTime')!) : new Date();
      const out: Record<string, unknown>[] = [];
      if (products.length && !products.includes('Linux/UNIX') && !products.includes('Linux/UNIX (Amazon VPC)')) return { spotPriceHistorySet: '', nextToken: '' };
      for (const t of types.filter((x) => typeNames.length === 0 || typeNames.includes(x.type))) {
        for (const z of r.zones.filter((x) => !zone || x.zoneName === zone)) {
          const h = spotHistory.get(`${t.type}\u0000${z.zoneName}`) ?? [];
          // The entries in [start, end] and the one in effect at start (EC2 includes it).
          const inEffect = [...h].reverse().find((e) => e.at <= start);
          const within = h.filter((e) => e.at > start && e.at <= end);
          for (const e of [...(inEffect ? [inEffect] : []), ...within].reverse()) {
            out.push({ availabilityZone: z.zoneName, instanceType: t.type, productDescription: 'Linux/UNIX', spotPrice: e.price, timestamp: e.at.toISOString() });
          }
        }
      }
      return { spotPriceHistorySet: items(out), nextToken: '' };
    },

    async DescribeImages(p, region) {
      const st = regionState.get(regionOf(region).name)!;
      const ids = listParam(p, 'ImageId');
      const owners = listParam(p, 'Owner');
      for (const id of ids) if (!st.images.some((i) => i.id === id)) throw new Ec2Error('InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`);
      let list = st.images.filter((i) => ids.length === 0 || ids.includes(i.id));
      if (owners.length) list = list.filter(() => owners.includes('amazon') || owners.includes(DLAMI_OWNER_ID));
      for (const f of filters(p)) {
        const get = (i: Image) => ({ name: i.name, state: 'available', architecture: 'x86_64', 'image-id': i.id, 'owner-alias': 'amazon' })[f.name];
        if (!['name', 'state', 'architecture', 'image-id', 'owner-alias'].includes(f.name)) throw new Ec2Error('InvalidParameterValue', `The filter '${f.name}' is invalid`);
        list = list.filter((i) => f.values.some((v) => globMatch(v, get(i)!)));
      }
      return {
        imagesSet: items(
          list.map((i) => ({ imageId: i.id, imageLocation: `amazon/${i.name}`, imageState: 'available', imageOwnerId: DLAMI_OWNER_ID, creationDate: i.created, isPublic: true, architecture: 'x86_64', imageType: 'machine', name: i.name, imageOwnerAlias: 'amazon', rootDeviceType: 'ebs', rootDeviceName: '/dev/sda1', virtualizationType: 'hvm', hypervisor: 'xen', enaSupport: true })),
        ),
      };
    },

    async ImportKeyPair(p, region) {
      const st = regionState.get(regionOf(region).name)!;
      const name = p.get('KeyName') ?? '';
      if (!name) throw new Ec2Error('MissingParameter', 'The request must contain the parameter KeyName');
      const material = Buffer.from(p.get('PublicKeyMaterial') ?? '', 'base64').toString('utf8').trim();
      const parts = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp\d+) ([A-Za-z0-9+/=]+)/.exec(material);
      if (!parts) throw new Ec2Error('InvalidKey.Format', 'Key is not in valid OpenSSH public key format');
      if (st.keys.has(name)) throw new Ec2Error('InvalidKeyPair.Duplicate', `The keypair '${name}' already exists.`);
      const fingerprint = createHash('sha256').update(Buffer.from(parts[2]!, 'base64')).digest('base64').replace(/=+$/, '');
      const k: KeyPair = { id: `key-${hex(17)}`, name, material, fingerprint };
      st.keys.set(name, k);
      return { keyFingerprint: fingerprint, keyName: name, keyPairId: k.id, tagSet: '' };
    },

    async CreateSecurityGroup(p, region) {
      const st = regionState.get(regionOf(region).name)!;
      const name = p.get('GroupName') ?? '';
      const description = p.get('GroupDescription') ?? '';
      if (!name || !description) throw new Ec2Error('MissingParameter', `The request must contain the parameter ${name ? 'GroupDescription' : 'GroupName'}`);
      if ([...st.groups.values()].some((g) => g.name === name)) throw new Ec2Error('InvalidGroup.Duplicate', `The security group '${name}' already exists for VPC 'vpc-0default'`);
      const g: SecurityGroup = { id: `sg-${hex(17)}`, name, description, ingress: [] };
      st.groups.set(g.id, g);
      return { return: true, groupId: g.id, securityGroupArn: `arn:aws:ec2:${region}:${OWNER_ID}:security-group/${g.id}` };
    },

    async DescribeSecurityGroups(p, region) {
      const st = regionState.get(regionOf(region).name)!;
      const names = listParam(p, 'GroupName');
      const ids = listParam(p, 'GroupId');
      const all = [...st.groups.values()];
      for (const n of names) if (!all.some((g) => g.name === n)) throw new Ec2Error('InvalidGroup.NotFound', `The security group '${n}' does not exist in default VPC 'vpc-0default'`);
      for (const id of ids) if (!st.groups.has(id)) throw new Ec2Error('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
      const list = all.filter((g) => (names.length === 0 || names.includes(g.name)) && (ids.length === 0 || ids.includes(g.id)));
      return {
        securityGroupInfo: items(
          list.map((g) => ({
            ownerId: OWNER_ID,
            groupId: g.id,
            groupName: g.name,
            groupDescription: g.description,
            vpcId: 'vpc-0default',
            ipPermissions: items(g.ingress.map((r) => ({ ipProtocol: r.proto, fromPort: r.from, toPort: r.to, groups: '', ipRanges: items(r.cidrs.map((c) => ({ cidrIp: c }))), ipv6Ranges: items(r.cidrs6.map((c) => ({ cidrIpv6: c }))), prefixListIds: '' }))),
            ipPermissionsEgress: items([{ ipProtocol: '-1', groups: '', ipRanges: items([{ cidrIp: '0.0.0.0/0' }]), ipv6Ranges: '', prefixListIds: '' }]),
          })),
        ),
      };
    },

    async AuthorizeSecurityGroupIngress(p, region) {
      const st = regionState.get(regionOf(region).name)!;
      const id = p.get('GroupId') ?? '';
      const g = st.groups.get(id);
      if (!g) throw new Ec2Error('InvalidGroupId.NotFound', `The security group '${id}' does not exist`);
      const added: Record<string, unknown>[] = [];
      for (const n of indices(p, 'IpPermissions')) {
        const proto = p.get(`IpPermissions.${n}.IpProtocol`) ?? '';
        const from = Number(p.get(`IpPermissions.${n}.FromPort`) ?? '-1');
        const to = Number(p.get(`IpPermissions.${n}.ToPort`) ?? '-1');
        if (!['tcp', 'udp', 'icmp', '-1'].includes(proto)) throw new Ec2Error('InvalidParameterValue', `Invalid value '${proto}' for IP protocol. Unknown protocol.`);
        const cidrs = indices(p, `IpPermissions.${n}.IpRanges`).map((m) => p.get(`IpPermissions.${n}.IpRanges.${m}.CidrIp`) ?? '');
        const cidrs6 = indices(p, `IpPermissions.${n}.Ipv6Ranges`).map((m) => p.get(`IpPermissions.${n}.Ipv6Ranges.${m}.CidrIpv6`) ?? '');
        if (g.ingress.some((r) => r.proto === proto && r.from === from && r.to === to && cidrs.some((c) => r.cidrs.includes(c)))) {
          throw new Ec2Error('InvalidPermission.Duplicate', `the specified rule "peer: ${cidrs[0]}, ${proto.toUpperCase()}, from port: ${from}, to port: ${to}, ALLOW" already exists`);
        }
        g.ingress.push({ proto, from, to, cidrs, cidrs6 });
        added.push({ securityGroupRuleId: `sgr-${hex(17)}`, groupId: g.id, groupOwnerId: OWNER_ID, isEgress: false, ipProtocol: proto, fromPort: from, toPort: to, ...(cidrs[0] ? { cidrIpv4: cidrs[0] } : {}) });
      }
      return { return: true, securityGroupRuleSet: items(added) };
    },

    async RunInstances(p, region) {
      const r = regionOf(region);
      const st = regionState.get(r.name)!;
      const record: Record<string, string> = { region };
      for (const [k, v] of p) if (k !== 'UserData') record[k] = v;
      launches.push(record);
      const token = p.get('ClientToken') ?? '';
      const type = p.get('InstanceType') ?? '';
      const zoneAsked = p.get('Placement.AvailabilityZone') ?? '';
      const imageId = p.get('ImageId') ?? '';
      // Idempotency: the same token returns the first launch (EC2 keeps tokens for 7 days).
      if (token) {
        const prior = [...instances.values()].find((i) => i.clientToken === token && i.region === region);
        if (prior) {
          if (prior.type !== type || (zoneAsked && prior.zone !== zoneAsked) || prior.imageId !== imageId) {
            throw new Ec2Error('IdempotentParameterMismatch', 'The client token you have provided is associated with a resource that is already deleted or with different parameters.');
          }
          await refresh(prior);
          return { reservationId: prior.reservationId, ownerId: OWNER_ID, groupSet: '', instancesSet: items([instanceXml(prior)]) };
        }
      }
      const t = types.find((x) => x.type === type);
      if (!t) throw new Ec2Error('InvalidParameterValue', `Invalid value '${type}' for InstanceType.`);
      const min = Number(p.get('MinCount') ?? '0');
      const max = Number(p.get('MaxCount') ?? '0');
      if (!(min >= 1 && max >= min)) throw new Ec2Error('InvalidParameterValue', 'MinCount and MaxCount must be at least 1, MinCount ≤ MaxCount');
      if (max !== 1) throw new Ec2Error('Unsupported', 'The replica launches one instance per RunInstances call.');
      const image = st.images.find((i) => i.id === imageId);
      if (!image) throw new Ec2Error(imageId.startsWith('ami-') ? 'InvalidAMIID.NotFound' : 'InvalidAMIID.Malformed', `The image id '[${imageId}]' does not exist`);
      const keyName = p.get('KeyName') ?? '';
      const key = keyName ? st.keys.get(keyName) : undefined;
      if (keyName && !key) throw new Ec2Error('InvalidKeyPair.NotFound', `The key pair '${keyName}' does not exist`);
      const groupIds = listParam(p, 'SecurityGroupId');
      for (const g of groupIds) if (!st.groups.has(g)) throw new Ec2Error('InvalidGroup.NotFound', `The security group '${g}' does not exist`);
      if (zoneAsked && !r.zones.some((z) => z.zoneName === zoneAsked)) throw new Ec2Error('InvalidParameterValue', `Invalid availability zone: [${zoneAsked}]`);
      const market = p.get('InstanceMarketOptions.MarketType');
      const spot = market === 'spot';
      if (market && !spot) throw new Ec2Error('InvalidParameterValue', `Invalid value '${market}' for MarketType`);
      if (spot) {
        const kind = p.get('InstanceMarketOptions.SpotOptions.SpotInstanceType') ?? 'one-time';
        const behaviour = p.get('InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior') ?? 'terminate';
        if (kind === 'persistent' && behaviour === 'terminate') throw new Ec2Error('InvalidParameterCombination', 'A persistent Spot Instance request cannot have terminate as its interruption behavior');
        if (kind !== 'one-time' || behaviour !== 'terminate') throw new Ec2Error('Unsupported', 'The replica supports one-time spot requests that terminate on interruption.');
      }
      const offered = (z: string) => !capacityOff.some((c) => (!c.type || c.type === type) && (!c.zone || c.zone === z) && (!c.region || c.region === region) && (!c.market || c.market === (spot ? 'spot' : 'on-demand')));
      const zone = zoneAsked || r.zones.find((z) => offered(z.zoneName))?.zoneName || r.zones[0]!.zoneName;
      if (!offered(zone)) {
        const others = r.zones.filter((z) => z.zoneName !== zone && offered(z.zoneName)).map((z) => z.zoneName);
        throw new Ec2Error(
          'InsufficientInstanceCapacity',
          spot
            ? 'There is no Spot capacity available that matches your request.'
            : `We currently do not have sufficient ${type} capacity in the Availability Zone you requested (${zone}). Our system will be working on provisioning additional capacity. You can currently get ${type} capacity by not specifying an Availability Zone in your request${others.length ? ` or choosing ${others.join(', ')}` : ''}.`,
        );
      }
      const live = [...instances.values()].filter((i) => i.state !== 'terminated' && i.state !== 'shutting-down');
      if (spot && live.filter((i) => i.spot).length + 1 > limits.spotInstances) throw new Ec2Error('MaxSpotInstanceCountExceeded', 'Max spot instance count exceeded');
      if (!spot) {
        const vcpus = live.filter((i) => !i.spot).reduce((s, i) => s + (types.find((x) => x.type === i.type)?.vcpus ?? 0), 0);
        if (vcpus + t.vcpus > limits.onDemandVcpus) {
          throw new Ec2Error(
            'VcpuLimitExceeded',
            `You have requested more vCPU capacity than your current vCPU limit of ${limits.onDemandVcpus} allows for the instance bucket that the specified instance type belongs to. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.`,
          );
        }
      }
      const userData = p.get('UserData') ?? '';
      if (userData && !/^[A-Za-z0-9+/]*={0,2}$/.test(userData)) throw new Ec2Error('InvalidParameterValue', 'Invalid BASE64 encoding of user data.');
      const tags = tagSpecs(p, 'instance');
      const id = `i-${hex(17)}`;
      // The machine: a local cloud sshd that accepts the key pair's key (none: a throwaway key, so nobody gets in).
      const publicKey = key?.material ?? `ssh-ed25519 ${Buffer.from(randomBytes(32)).toString('base64')}`;
      const b = await backing.create(id, tags.get('Name') ?? id, publicKey);
      const inst: ReplicaEc2Instance = {
        id,
        region,
        zone,
        type,
        imageId,
        keyName,
        groupIds,
        clientToken: token,
        reservationId: `r-${hex(17)}`,
        tags,
        spot,
        ...(spot ? { spotRequestId: `sir-${hex(8)}` } : {}),
        state: 'pending',
        transitionReason: '',
        launchTime: new Date(Math.floor(Date.now() / 1000) * 1000),
        backingId: b.cloudId,
        userData,
        rootDevice: p.get('BlockDeviceMapping.1.DeviceName') ?? '/dev/sda1',
        ...(p.get('BlockDeviceMapping.1.Ebs.VolumeSize') ? { volumeSize: Number(p.get('BlockDeviceMapping.1.Ebs.VolumeSize')) } : {}),
        publicIp: '',
        privateIp: `172.31.${Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}`,
      };
      instances.set(id, inst);
      return { reservationId: inst.reservationId, ownerId: OWNER_ID, groupSet: '', instancesSet: items([instanceXml(inst)]) };
    },

    async DescribeInstances(p, region) {
      regionOf(region);
      const ids = listParam(p, 'InstanceId');
      const picked = ids.map((id) => findInstance(region, id));
      let list = ids.length ? picked : [...instances.values()].filter((i) => i.region === region);
      await Promise.all(list.map(refresh));
      for (const f of filters(p)) {
        const get = (i: ReplicaEc2Instance): string[] | undefined => {
          if (f.name.startsWith('tag:')) return i.tags.has(f.name.slice(4)) ? [i.tags.get(f.name.slice(4))!] : [];
          const v = ({ 'tag-key': [...i.tags.keys()], 'instance-state-name': [i.state], 'instance-id': [i.id], 'instance-type': [i.type], 'availability-zone': [i.zone], 'instance-lifecycle': i.spot ? ['spot'] : [], 'client-token': [i.clientToken] } as Record<string, string[]>)[f.name];
          return v;
        };
        if (list[0] && get(list[0]) === undefined) throw new Ec2Error('InvalidParameterValue', `The filter '${f.name}' is invalid`);
        list = list.filter((i) => (get(i) ?? []).some((v) => f.values.some((pat) => globMatch(pat, v))));
      }
      // One reservation per launch, as EC2 groups them.
      return { reservationSet: items(list.map((i) => ({ reservationId: i.reservationId, ownerId: OWNER_ID, groupSet: '', instancesSet: items([instanceXml(i)]) }))), nextToken: '' };
    },

    async TerminateInstances(p, region) {
      const ids = listParam(p, 'InstanceId');
      if (ids.length === 0) throw new Ec2Error('MissingParameter', 'The request must contain the parameter InstanceId');
      const list = ids.map((id) => findInstance(region, id));
      const out: Record<string, unknown>[] = [];
      for (const i of list) {
        await refresh(i);
        const prev = i.state;
        await beginTerminate(i, { code: 'Client.UserInitiatedShutdown', message: 'Client.UserInitiatedShutdown: User initiated shutdown' }, 'User initiated');
        out.push({ instanceId: i.id, currentState: { code: STATE_CODES[i.state], name: i.state }, previousState: { code: STATE_CODES[prev], name: prev } });
      }
      return { instancesSet: items(out) };
    },

    async RebootInstances(p, region) {
      const list = listParam(p, 'InstanceId').map((id) => findInstance(region, id));
      for (const i of list) {
        if (i.state === 'terminated' || i.state === 'shutting-down') throw new Ec2Error('IncorrectState', `The instance '${i.id}' is not in a state from which it can be rebooted.`);
        await backing.reboot(i.backingId);
      }
      return { return: true };
    },

    async CreateTags(p, region) {
      const ids = listParam(p, 'ResourceId');
      const list = ids.map((id) => findInstance(region, id));
      for (const n of indices(p, 'Tag')) {
        const key = p.get(`Tag.${n}.Key`) ?? '';
        if (key.startsWith('aws:')) throw new Ec2Error('InvalidParameterValue', `Tag keys starting with 'aws:' are reserved for internal use`);
        for (const i of list) i.tags.set(key, p.get(`Tag.${n}.Value`) ?? '');
      }
      return { return: true };
    },
  };

  // ---- IMDS (test only) --------------------------------------------------------------------------
  // `/imds/<instanceId>/latest/...`: IMDSv2 for one instance (AWS serves it at 169.254.169.254,
  // which no test can bind): PUT api/token, then GET meta-data/spot/instance-action (404 until the notice).
  const imdsTokens = new Set<string>();
  function imds(req: http.IncomingMessage, res: http.ServerResponse, path: string): void {
    const m = /^\/imds\/(i-[0-9a-f]+)\/latest\/(.*)$/.exec(path);
    const i = m ? instances.get(m[1]!) : undefined;
    const send = (status: number, body: string, type = 'text/plain'): void => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) }).end(body);
    };
    if (!m || !i) return send(404, 'Not Found');
    if (m[2] === 'api/token' && req.method === 'PUT') {
      const ttl = Number(req.headers['x-aws-ec2-metadata-token-ttl-seconds'] ?? '0');
      if (!(ttl >= 1 && ttl <= 21600)) return send(400, 'Bad Request');
      const t = randomBytes(24).toString('base64');
      imdsTokens.add(t);
      return send(200, t);
    }
    if (!imdsTokens.has(String(req.headers['x-aws-ec2-metadata-token'] ?? ''))) return send(401, 'Unauthorized');
    if (m[2] === 'meta-data/spot/instance-action') return i.instanceAction ? send(200, JSON.stringify(i.instanceAction), 'application/json') : send(404, 'Not Found');
    if (m[2] === 'meta-data/instance-id') return send(200, i.id);
    return send(404, 'Not Found');
  }

  const { server, base, malformNext, malformOperation } = await serveReplica(
    async (req, res, rec) => {
      const r = rec as RequestRecord & { action?: string; region?: string };
      const url = new URL(req.url ?? '/', 'http://replica');
      if (url.pathname.startsWith('/imds/')) {
        imds(req, res, url.pathname);
        r.status = res.statusCode;
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of req) {
        size += (c as Buffer).length;
        if (size > MAX_BODY) throw new Ec2Error('InvalidParameterValue', 'request body too large');
        chunks.push(c as Buffer);
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const params = new URLSearchParams(req.method === 'GET' ? url.search : body);
      r.action = params.get('Action') ?? '';
      r.auth = req.headers.authorization ? 'sigv4' : 'none';
      const { region } = await verify(req, body);
      r.region = region;
      const action = r.action;
      if (!action) throw new Ec2Error('MissingAction', 'The request must contain the parameter Action');
      if (params.get('Version') !== API_VERSION) throw new Ec2Error('InvalidParameterValue', `Invalid API version: ${params.get('Version')}; the replica serves ${API_VERSION}`);
      const handler = Object.hasOwn(actions, action) ? actions[action] : undefined;
      if (!handler) throw new Ec2Error('InvalidAction', `The action ${action} is not valid for this web service.`);
      if (denied.has(action)) throw new Ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.');
      const fi = faults.findIndex((f) => f.count > 0 && (!f.action || f.action === action) && (!f.region || f.region === region));
      if (fi >= 0) {
        const f = faults[fi]!;
        if (--f.count <= 0) faults.splice(fi, 1);
        throw new Ec2Error(f.code, f.message ?? `${f.code} (injected)`, f.status);
      }
      throttle(action, region);
      malformOperation(req, res, action);
      const xml = respond(action, await handler(params, region));
      r.status = 200;
      res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8', 'content-length': Buffer.byteLength(xml) }).end(xml);
    },
    { requests, internalError: () => new Ec2Error('InternalError', 'An internal error has occurred'), host: opts.host, port: opts.port },
  );

  const timers = new Set<NodeJS.Timeout>();
  const admin: AwsReplicaAdmin = {
    failNext: (f) => faults.push({ count: 1, ...f }),
    malformNext: (f) => malformNext({ ...f, methods: ['POST'], operation: f.action }),
    setCapacityOff: (c) => capacityOff.push(c),
    clearCapacity: () => capacityOff.splice(0),
    setLimits: (l) => {
      if (l.spotInstances !== undefined) limits.spotInstances = l.spotInstances;
      if (l.onDemandVcpus !== undefined) limits.onDemandVcpus = l.onDemandVcpus;
    },
    deny: (a) => {
      denied.clear();
      a.forEach((x) => denied.add(x));
    },
    setSpotPrice: (type, zone, price) => {
      const k = `${type}\u0000${zone}`;
      spotHistory.set(k, [...(spotHistory.get(k) ?? []), { at: new Date(), price }]);
    },
    async interrupt(id) {
      const i = instances.get(id);
      if (!i?.spot) throw new Error(`${id} is not a spot instance`);
      i.instanceAction = { action: 'terminate', time: new Date(Date.now() + noticeMs).toISOString() };
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          timers.delete(t);
          void beginTerminate(i, { code: 'Server.SpotInstanceTermination', message: 'Server.SpotInstanceTermination: Spot instance termination' }, 'Service initiated').then(resolve);
        }, noticeMs);
        timers.add(t);
      });
    },
    instances: () => [...instances.values()],
    instance: (id) => instances.get(id),
    launches: () => launches,
    keyPairs: (region) => [...(regionState.get(region)?.keys.values() ?? [])].map((k) => ({ name: k.name, material: k.material })),
    securityGroups: (region) => [...(regionState.get(region)?.groups.values() ?? [])],
    backingId: (id) => instances.get(id)?.backingId,
  };

  return {
    url: base,
    admin,
    requests,
    async close() {
      for (const t of timers) clearTimeout(t);
      await Promise.all([...instances.values()].filter((i) => i.state !== 'terminated').map((i) => backing.terminate(i.backingId).catch(() => undefined)));
      await closeServer(server);
    },
  };
}
