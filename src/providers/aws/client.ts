/**
 * The AWS EC2 adapter: the provider contract over EC2 through @aws-sdk/client-ec2.
 *
 * - Catalog (./catalog.ts): DescribeAvailabilityZones, DescribeInstanceTypes and
 *   DescribeSpotPriceHistory per region, on-demand prices from SkyPilot's AWS catalog.
 * - Create: ImportKeyPair (a key pair named by the key's hash, reused), a security group for the
 *   rules (named by their hash, reused: no group per workload to orphan), the Deep Learning AMI
 *   (DescribeImages, newest by name; overridable), then one RunInstances with `ClientToken` from
 *   the refId (EC2 itself returns the same instance for a repeated token), identity as tags in
 *   TagSpecifications, spot as one-time/terminate `InstanceMarketOptions`, and the zone in
 *   `Placement`. RunInstances is atomic: a refusal leaves no instance.
 * - Errors (./http.ts): capacity blocks the zone, limits the region, credentials the provider.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DescribeAvailabilityZonesCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  DescribeRegionsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSpotPriceHistoryCommand,
  ImportKeyPairCommand,
  RebootInstancesCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type _InstanceType,
  type Filter,
  type IpPermission,
  type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { z } from 'zod';
import { moneyFromDecimal, toJSON, type MoneyJSON } from '../../money/money.js';
import { byteCountIn } from '../sdk/bytes.js';
import type { CloudClient } from '../sdk/client.js';
import { invalidArgs } from '../sdk/clientArgs.js';
import { CredentialBoundClient } from '../sdk/credentialBoundClient.js';
import { ImageNotFoundError, InstanceNotFoundError, InvalidRequestError, isCloudError, ServiceUnavailableError } from '../sdk/errors.js';
import { DEFAULT_SSH_PORTS } from '../sdk/firewall.js';
import {
  CreateInstanceAttrsSchema,
  GetInstanceTypesArgsSchema,
  isAllLocations,
  isSelectedByArgs,
  ListInstancesArgsSchema,
  TagsSchema,
  type CreateInstanceAttrs,
  type FirewallRules,
  type GetInstanceTypesArgs,
  type Instance,
  type InstanceType,
  type ListInstancesArgs,
  type Location,
  type Tags,
} from '../sdk/types.js';
import { AWS_TAG_KEYS, CLIENT_TOKEN_MAX, DEFAULT_AMI_OWNER, LINUX_PRODUCT_DESCRIPTION } from './api.js';
import { awsInstanceTypes, parseAwsCatalogCsv, spotKey, type AwsCatalogRow, type AwsZone, type Ec2InstanceTypeInfo } from './catalog.js';
import type { AwsCredential } from './credential.js';
import { callEc2, sendEc2 } from './http.js';
import { awsInstance } from './instances.js';
import {
  CreateSecurityGroupOutputSchema,
  DescribeAvailabilityZonesOutputSchema,
  DescribeImagesOutputSchema,
  DescribeInstancesOutputSchema,
  DescribeInstanceTypesOutputSchema,
  DescribeRegionsOutputSchema,
  DescribeSecurityGroupsOutputSchema,
  DescribeSpotPriceHistoryOutputSchema,
  RunInstancesOutputSchema,
} from './responses.js';
import { AWS_REGIONS, awsRegionCountry } from './regions.js';

/** Actions whose answer the adapter does not read, only that it came (the envelope is checked: ./answerCheck.ts). */
const UNREAD = z.unknown();

/** DescribeInstanceTypes takes at most 100 names per call. */
const DESCRIBE_TYPES_BATCH = 100;
/** EC2's default creates per second per account are low (RunInstances bucket: 2/s refill); one a second. */
const MAX_CREATES_PER_MINUTE = 60;

/** The ClientToken for a refId: itself when it fits, else a hash (64 ASCII characters at most). */
export function clientTokenFor(refId: string): string {
  return refId.length <= CLIENT_TOKEN_MAX && /^[\x21-\x7e]+$/.test(refId) ? refId : `gpuflow-${createHash('sha256').update(refId).digest('hex').slice(0, 48)}`;
}

/** A key pair name for a public key: the same key is imported once and reused. */
export function keyPairNameFor(publicKey: string): string {
  const material = publicKey.trim().split(/\s+/).slice(0, 2).join(' ');
  return `gpuflow-${createHash('sha256').update(material).digest('hex').slice(0, 20)}`;
}

/** The security group's ingress: SSH plus each rule (TCP and UDP for the rule's ports). */
export function ingressPermissions(rules: FirewallRules): IpPermission[] {
  const ssh: IpPermission[] = DEFAULT_SSH_PORTS.slice(0, 1).map((p) => ({ IpProtocol: 'tcp', FromPort: p, ToPort: p, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }));
  const extra = rules.ingressRules.flatMap((r) => {
    const v4 = (r.ipRanges.length ? r.ipRanges : ['0.0.0.0/0']).filter((x) => !x.includes(':'));
    const v6 = r.ipRanges.filter((x) => x.includes(':'));
    return (['tcp', 'udp'] as const).map((proto) => ({
      IpProtocol: proto,
      FromPort: r.fromPort,
      ToPort: r.toPort,
      ...(v4.length ? { IpRanges: v4.map((c) => ({ CidrIp: c.includes('/') ? c : `${c}/32` })) } : {}),
      ...(v6.length ? { Ipv6Ranges: v6.map((c) => ({ CidrIpv6: c.includes('/') ? c : `${c}/128` })) } : {}),
    }));
  });
  return [...ssh, ...extra];
}

/** The group name for a rule set: one group per distinct set, reused by every workload asking for it. */
export function securityGroupNameFor(perms: IpPermission[]): string {
  return `gpuflow-${createHash('sha256').update(JSON.stringify(perms)).digest('hex').slice(0, 16)}`;
}

function spotPrice(raw: string | undefined): MoneyJSON | undefined {
  const s = (raw ?? '').trim();
  if (!/^\d+(\.\d+)?$/.test(s)) return undefined;
  const j = toJSON(moneyFromDecimal(s, 'USD', 8));
  return j.amount > 0 ? j : undefined;
}

export class AwsClient extends CredentialBoundClient<AwsCredential> implements CloudClient {
  readonly #regions: readonly string[];
  #catalogRows: AwsCatalogRow[] | undefined;
  readonly #images = new Map<string, Promise<{ imageId: string; rootDevice: string }>>();

  constructor(credential: AwsCredential, location: string, regions: readonly string[]) {
    super(credential, location);
    this.#regions = regions;
  }

  getInstanceTypePollTimeMs(): number {
    return 5 * 60_000;
  }

  getInstancePollTimeMs(): number {
    return this.credential.instancePollMs;
  }

  getMaxCreateRequestsPerMinute(): number {
    return MAX_CREATES_PER_MINUTE;
  }

  private ctx(region: string) {
    return { region, logger: this.credential.logger() };
  }

  private call<S extends z.ZodTypeAny>(region: string, command: { constructor: { name: string } }, schema: S): Promise<z.output<S>> {
    return callEc2(this.credential.ec2(region), command, this.ctx(region), schema);
  }

  private regionFor(location: string): string {
    if (!this.#regions.includes(location)) {
      throw new InvalidRequestError(`aws: location "${location}" is not a region of this client (${this.#regions.join(', ')}); use a region the connection lists`);
    }
    return location;
  }

  private catalogRows(): AwsCatalogRow[] {
    if (!this.#catalogRows) {
      let text: string;
      try {
        text = readFileSync(this.credential.catalogFile, 'utf8');
      } catch (e) {
        throw new InvalidRequestError(
          `aws: no price catalog at ${this.credential.catalogFile} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): EC2 has no price API; set the connection's catalogFile to SkyPilot's AWS catalog (catalogs/v8/aws/vms.csv of skypilot-org/skypilot-catalog)`,
        );
      }
      this.#catalogRows = parseAwsCatalogCsv(text);
    }
    return this.#catalogRows;
  }

  /** Configured regions; unavailable when EC2 does not list them as enabled for the account. */
  async getLocations(args?: { includeUnavailable?: boolean }): Promise<Location[]> {
    const first = this.#regions[0]!;
    const out = await this.call(first, new DescribeRegionsCommand({ RegionNames: [...this.#regions] }), DescribeRegionsOutputSchema);
    const enabled = new Set((out.Regions ?? []).filter((r) => r.OptInStatus !== 'not-opted-in').map((r) => r.RegionName));
    const locations = this.#regions.flatMap((r): Location[] => {
      const country = awsRegionCountry(r);
      if (!country) return [];
      return [{ name: r, description: AWS_REGIONS[r]!.name, available: enabled.has(r), priority: 0, country, endpoint: this.credential.endpoint ?? `https://ec2.${r}.amazonaws.com` }];
    });
    return args?.includeUnavailable ? locations : locations.filter((l) => l.available);
  }

  async getInstanceTypes(args: GetInstanceTypesArgs = {}): Promise<InstanceType[]> {
    const p = GetInstanceTypesArgsSchema.safeParse(args);
    if (!p.success) throw invalidArgs('aws getInstanceTypes', p.error);
    const a = p.data;
    const regions = this.#regions.filter((r) => isAllLocations(a.locations) || a.locations!.includes(r));
    const rows = this.catalogRows();
    const perRegion = await Promise.all(regions.map((r) => this.regionTypes(r, rows, a.instanceTypes)));
    return perRegion.flat().filter((t) => isSelectedByArgs(t, a));
  }

  private async regionTypes(region: string, rows: readonly AwsCatalogRow[], only: string[] | undefined): Promise<InstanceType[]> {
    const names = [...new Set(rows.filter((r) => r.region === region && r.price).map((r) => r.instanceType))].filter((t) => !only?.length || only.includes(t)).sort();
    if (names.length === 0) return [];
    const zonesOut = await this.call(
      region,
      new DescribeAvailabilityZonesCommand({ Filters: [{ Name: 'region-name', Values: [region] }, { Name: 'zone-type', Values: ['availability-zone'] }] }),
      DescribeAvailabilityZonesOutputSchema,
    );
    const zones: AwsZone[] = (zonesOut.AvailabilityZones ?? [])
      .filter((z) => z.ZoneName && z.State === 'available')
      .map((z) => ({ zoneName: z.ZoneName!, zoneId: z.ZoneId ?? '' }))
      .sort((x, y) => x.zoneName.localeCompare(y.zoneName));
    const types: Ec2InstanceTypeInfo[] = [];
    for (let i = 0; i < names.length; i += DESCRIBE_TYPES_BATCH) {
      let token: string | undefined;
      do {
        const out = await this.call(
          region,
          new DescribeInstanceTypesCommand({ InstanceTypes: names.slice(i, i + DESCRIBE_TYPES_BATCH) as _InstanceType[], ...(token ? { NextToken: token } : {}) }),
          DescribeInstanceTypesOutputSchema,
        );
        types.push(...((out.InstanceTypes ?? []) as Ec2InstanceTypeInfo[]));
        token = out.NextToken;
      } while (token);
    }
    const gpuTypes = types.filter((t) => (t.GpuInfo?.Gpus?.length ?? 0) > 0).map((t) => t.InstanceType!);
    return awsInstanceTypes({ region, zones, types, rows, spotPrices: await this.spotPrices(region, gpuTypes) });
  }

  /** The newest Linux spot price per (type, zone), from DescribeSpotPriceHistory "now". */
  private async spotPrices(region: string, types: string[]): Promise<Map<string, MoneyJSON>> {
    const out = new Map<string, { at: number; price: MoneyJSON }>();
    if (types.length === 0) return new Map();
    let token: string | undefined;
    const now = new Date();
    do {
      const page = await this.call(
        region,
        new DescribeSpotPriceHistoryCommand({
          InstanceTypes: types as _InstanceType[],
          ProductDescriptions: [LINUX_PRODUCT_DESCRIPTION],
          // StartTime = EndTime = now: EC2 answers with the price in effect in each zone.
          StartTime: now,
          EndTime: now,
          ...(token ? { NextToken: token } : {}),
        }),
        DescribeSpotPriceHistoryOutputSchema,
      );
      for (const s of page.SpotPriceHistory ?? []) {
        const price = spotPrice(s.SpotPrice);
        if (!s.InstanceType || !s.AvailabilityZone || !price) continue;
        const k = spotKey(s.InstanceType, s.AvailabilityZone);
        const at = s.Timestamp?.getTime() ?? 0;
        const prev = out.get(k);
        if (!prev || at > prev.at) out.set(k, { at, price });
      }
      token = page.NextToken || undefined;
    } while (token);
    return new Map([...out].map(([k, v]) => [k, v.price]));
  }

  async createInstance(attrs: CreateInstanceAttrs): Promise<Instance> {
    const { region, input, refId, useSpot } = await this.prepareLaunch(attrs);
    if (useSpot && this.credential.spotHuntZones > 1) return (await this.huntSpot(region, input, refId)).instance;
    return this.launch(region, input);
  }

  /** A spot create with hunting (whatever `spotHuntZones` says, at least the offer's zone), and the race windows it had. */
  async createSpotHunting(attrs: CreateInstanceAttrs): Promise<{ instance: Instance; raceWindowsMs: number[] }> {
    const { region, input, refId } = await this.prepareLaunch({ ...attrs, useSpot: true });
    return this.huntSpot(region, input, refId);
  }

  /** The key pair, security group and image a launch needs, and the RunInstances input. */
  private async prepareLaunch(attrs: CreateInstanceAttrs): Promise<{ region: string; input: RunInstancesCommandInput; refId: string; useSpot: boolean }> {
    const p = CreateInstanceAttrsSchema.safeParse(attrs);
    if (!p.success) throw invalidArgs('aws createInstance', p.error);
    const a = p.data;
    const region = this.regionFor(a.location);
    const zone = a.subLocation || (await this.defaultZone(region, a.instanceType));
    if (!zone.startsWith(region)) throw new InvalidRequestError(`aws: zone "${zone}" is not in region ${region}`);
    const ec2 = this.credential.ec2(region);
    const ctx = this.ctx(region);

    const keyName = keyPairNameFor(a.publicKey);
    await sendEc2(ec2, new ImportKeyPairCommand({ KeyName: keyName, PublicKeyMaterial: new TextEncoder().encode(a.publicKey.trim()) }), ctx, UNREAD, ['InvalidKeyPair.Duplicate']);
    const groupId = await this.securityGroup(region, ingressPermissions(a.firewallRules));
    const image = await this.image(region, a.imageId);

    const tags: Tags = { ...a.tags, [AWS_TAG_KEYS.name]: a.name || a.refId, [AWS_TAG_KEYS.refId]: a.refId, [AWS_TAG_KEYS.cloudCredRefId]: this.getReferenceId() };
    const tagList = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
    const input: RunInstancesCommandInput = {
      ImageId: image.imageId,
      InstanceType: a.instanceType as _InstanceType,
      MinCount: 1,
      MaxCount: 1,
      KeyName: keyName,
      SecurityGroupIds: [groupId],
      Placement: { AvailabilityZone: zone },
      ClientToken: clientTokenFor(a.refId),
      TagSpecifications: [
        { ResourceType: 'instance', Tags: tagList },
        { ResourceType: 'volume', Tags: tagList },
      ],
      ...(a.userDataBase64 ? { UserData: a.userDataBase64 } : {}),
      ...(a.diskSize ? { BlockDeviceMappings: [{ DeviceName: image.rootDevice, Ebs: { VolumeSize: Math.max(8, byteCountIn(a.diskSize, 'GiB')), VolumeType: 'gp3', DeleteOnTermination: true } }] } : {}),
      ...(a.useSpot ? { InstanceMarketOptions: { MarketType: 'spot', SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate' } } } : {}),
      // The instance must not outlive a shutdown from inside (the node watchdog's `shutdown -h`).
      InstanceInitiatedShutdownBehavior: 'terminate',
    };
    return { region, input, refId: a.refId, useSpot: a.useSpot };
  }

  private async launch(region: string, input: RunInstancesCommandInput): Promise<Instance> {
    const out = await callEc2(this.credential.ec2(region), new RunInstancesCommand(input), this.ctx(region), RunInstancesOutputSchema);
    return awsInstance(out.Instances[0]!, { region, testReplica: this.credential.testReplica });
  }

  /**
   * Spot hunting: the same launch in the offer's zone and the cheapest other spot zones at once,
   * each with its own ClientToken (so a retry repeats each zone's launch instead of adding one).
   * The first instance EC2 gives is kept; each later one is terminated as soon as its launch
   * answers, and all of that happens before this returns: two instances of one workload live at
   * once only between a losing launch's answer and its TerminateInstances answer (the race window,
   * measured by `npm run bench:aws-spot-hunt`).
   */
  private async huntSpot(region: string, input: RunInstancesCommandInput, refId: string): Promise<{ instance: Instance; raceWindowsMs: number[] }> {
    // A retry of a hunt that already won: the winner carries the refId tag.
    const prior = await this.describe(region, { Filters: [{ Name: `tag:${AWS_TAG_KEYS.refId}`, Values: [refId] }, { Name: 'instance-state-name', Values: ['pending', 'running'] }] }, false);
    if (prior[0]) return { instance: prior[0], raceWindowsMs: [] };
    const asked = input.Placement!.AvailabilityZone!;
    const others = (await this.regionTypes(region, this.catalogRows(), [input.InstanceType!]))
      .filter((t) => t.subLocation !== asked && t.spotPrice)
      .sort((x, y) => x.spotPrice!.amount / 10 ** x.spotPrice!.scale - y.spotPrice!.amount / 10 ** y.spotPrice!.scale)
      .map((t) => t.subLocation);
    const zones = [asked, ...others].slice(0, this.credential.spotHuntZones);
    let winner: { inst: Instance; zone: string } | undefined;
    const losers: Promise<number>[] = [];
    const settled = await Promise.allSettled(
      zones.map(async (zone) => {
        const inst = await this.launch(region, { ...input, Placement: { AvailabilityZone: zone }, ClientToken: clientTokenFor(`${refId}#${zone}`) });
        const at = performance.now();
        // The first instance up is kept; every later one is terminated the moment EC2 answers.
        if (!winner) winner = { inst, zone };
        else losers.push(this.terminateLoser(inst.cloudId).then(() => performance.now() - at));
      }),
    );
    const raceWindowsMs = await Promise.all(losers).catch(async (e: unknown) => {
      // A loser could not be terminated: give up the winner too rather than leave two behind.
      if (winner) await this.terminateInstance(winner.inst.cloudId).catch(() => undefined);
      throw e;
    });
    if (!winner) throw (settled[0] as PromiseRejectedResult).reason;
    this.credential.logger().info({ region, zones, won: winner.zone, terminated: losers.length, raceWindowsMs: raceWindowsMs.map((m) => Math.round(m)) }, 'aws spot hunt');
    return { instance: winner.inst, raceWindowsMs };
  }

  /** Terminates a hunt's extra instance, trying a few times: it must not outlive the hunt. */
  private async terminateLoser(cloudId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.terminateInstance(cloudId);
      } catch (e) {
        if (attempt >= 3) throw e;
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
  }

  /** The first zone (by name) where the catalog offers the type, for a create that names none. */
  private async defaultZone(region: string, type: string): Promise<string> {
    const t = (await this.regionTypes(region, this.catalogRows(), [type]))[0];
    if (!t) throw new InvalidRequestError(`aws: instance type ${type} is not offered in ${region} (per the catalog and DescribeInstanceTypes)`);
    return t.subLocation;
  }

  private async securityGroup(region: string, perms: IpPermission[]): Promise<string> {
    const ec2 = this.credential.ec2(region);
    const ctx = this.ctx(region);
    const name = securityGroupNameFor(perms);
    const created = await sendEc2(ec2, new CreateSecurityGroupCommand({ GroupName: name, Description: 'gpuflow: SSH and the workload ports' }), ctx, CreateSecurityGroupOutputSchema, ['InvalidGroup.Duplicate']);
    if (created.ok) {
      await sendEc2(ec2, new AuthorizeSecurityGroupIngressCommand({ GroupId: created.value.GroupId, IpPermissions: perms }), ctx, UNREAD, ['InvalidPermission.Duplicate']);
      return created.value.GroupId;
    }
    const found = await this.call(region, new DescribeSecurityGroupsCommand({ GroupNames: [name] }), DescribeSecurityGroupsOutputSchema);
    const g = found.SecurityGroups?.[0];
    if (!g?.GroupId) throw new ServiceUnavailableError(`aws ${region}: security group ${name} exists but cannot be read`);
    // A group another create made but had no time to authorize: authorize now (duplicates are fine).
    if (!g.IpPermissions?.length) await sendEc2(ec2, new AuthorizeSecurityGroupIngressCommand({ GroupId: g.GroupId, IpPermissions: perms }), ctx, UNREAD, ['InvalidPermission.Duplicate']);
    return g.GroupId;
  }

  /** The AMI to boot and its root device: the one asked for, the connection's, or the newest DLAMI. */
  private image(region: string, requested: string): Promise<{ imageId: string; rootDevice: string }> {
    const id = requested || this.credential.amiId || '';
    const key = `${region}\u0000${id}`;
    let p = this.#images.get(key);
    if (!p) {
      p = (async () => {
        const filters: Filter[] = [{ Name: 'state', Values: ['available'] }];
        const out = await this.call(
          region,
          id
            ? new DescribeImagesCommand({ ImageIds: [id] })
            : new DescribeImagesCommand({ Owners: [DEFAULT_AMI_OWNER], Filters: [...filters, { Name: 'name', Values: [this.credential.amiNamePattern] }, { Name: 'architecture', Values: ['x86_64'] }] }),
          DescribeImagesOutputSchema,
        );
        const newest = [...(out.Images ?? [])].filter((i) => i.ImageId).sort((x, y) => (y.CreationDate ?? '').localeCompare(x.CreationDate ?? ''))[0];
        if (!newest) throw new ImageNotFoundError(id ? `aws ${region}: image ${id} not found` : `aws ${region}: no AMI named "${this.credential.amiNamePattern}" owned by ${DEFAULT_AMI_OWNER}; set amiId`);
        return { imageId: newest.ImageId!, rootDevice: newest.RootDeviceName ?? '/dev/sda1' };
      })();
      this.#images.set(key, p);
      p.catch(() => this.#images.delete(key));
    }
    return p;
  }

  async getInstance(cloudId: string): Promise<Instance> {
    for (const region of this.#regions) {
      const found = await this.describe(region, { InstanceIds: [cloudId] }, true);
      if (found.length) return found[0]!;
    }
    throw new InstanceNotFoundError(`aws: no instance ${cloudId} in ${this.#regions.join(', ')}`);
  }

  private async describe(region: string, q: { InstanceIds?: string[]; Filters?: Filter[] }, notFoundIsEmpty: boolean): Promise<Instance[]> {
    const out: Instance[] = [];
    let token: string | undefined;
    do {
      let page: z.output<typeof DescribeInstancesOutputSchema>;
      try {
        page = await this.call(region, new DescribeInstancesCommand({ ...q, ...(token ? { NextToken: token } : {}) }), DescribeInstancesOutputSchema);
      } catch (e) {
        if (notFoundIsEmpty && isCloudError(e) && e.code === 'INSTANCE_NOT_FOUND') return [];
        throw e;
      }
      for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) out.push(awsInstance(i, { region, testReplica: this.credential.testReplica }));
      token = page.NextToken || undefined;
    } while (token);
    return out;
  }

  async listInstances(args: ListInstancesArgs = {}): Promise<Instance[]> {
    const p = ListInstancesArgsSchema.safeParse(args);
    if (!p.success) throw invalidArgs('aws listInstances', p.error);
    const a = p.data;
    if (a.instanceIds && a.instanceIds.length === 0) return [];
    const regions = this.#regions.filter((r) => isAllLocations(a.locations) || a.locations!.includes(r));
    const filters: Filter[] = Object.entries(a.tagFilters ?? {}).map(([k, vs]) => ({ Name: `tag:${k}`, Values: vs }));
    const lists = await Promise.all(
      regions.map((r) =>
        a.instanceIds
          ? // Ask per ID: one unknown ID makes EC2 refuse the whole call (InvalidInstanceID.NotFound).
            Promise.all(a.instanceIds.map((id) => this.describe(r, { InstanceIds: [id], ...(filters.length ? { Filters: filters } : {}) }, true))).then((x) => x.flat())
          : this.describe(r, filters.length ? { Filters: filters } : {}, false),
      ),
    );
    return lists.flat();
  }

  /** Idempotent: an instance that is gone or unknown is done. */
  async terminateInstance(cloudId: string): Promise<void> {
    for (const region of this.#regions) {
      const r = await sendEc2(this.credential.ec2(region), new TerminateInstancesCommand({ InstanceIds: [cloudId] }), this.ctx(region), UNREAD, ['InvalidInstanceID.NotFound']);
      if (r.ok) return;
    }
  }

  async rebootInstance(cloudId: string): Promise<void> {
    const i = await this.getInstance(cloudId);
    await this.call(i.location, new RebootInstancesCommand({ InstanceIds: [cloudId] }), UNREAD);
  }

  /** CreateTags merges (same key overwrites); the identity tags cannot be changed through it. */
  async updateInstanceTags(args: { instanceId: string; tags: Tags }): Promise<void> {
    const tags = TagsSchema.parse(args.tags);
    for (const k of Object.keys(tags)) {
      if (k === AWS_TAG_KEYS.refId || k === AWS_TAG_KEYS.cloudCredRefId) throw new InvalidRequestError(`aws: tag ${k} is the instance's identity and cannot be changed`);
    }
    const i = await this.getInstance(args.instanceId);
    await this.call(i.location, new CreateTagsCommand({ Resources: [args.instanceId], Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }), UNREAD);
  }
}
