/**
 * The provider contract's interfaces. A credential (secrets + identity) makes clients bound to a
 * location; a client is the base (create/terminate, read, catalog) plus optional capability
 * interfaces. A client declares exactly the capabilities it implements; `supports*` guards check the
 * declaration and the method together, so callers never reach a method that is not there.
 */
import type { Capability } from './capabilities.js';
import type {
  CreateInstanceAttrs,
  FirewallRules,
  GetInstanceTypesArgs,
  Instance,
  InstanceType,
  ListInstancesArgs,
  Location,
  Quota,
  Tags,
} from './types.js';

/** "locational": each client sees one location; "global": one client sees every location. */
export type ApiType = 'locational' | 'global';

export interface CloudApi {
  getApiType(): ApiType;
  getCapabilities(): Promise<Capability[]>;
  /** e.g. "local", "lambda-labs", "runpod". */
  getCloudProviderId(): string;
}

export interface CloudCredential extends CloudApi {
  /** Our reference for this credential (connection name); stored on every instance it creates. */
  getReferenceId(): string;
  getTenantId(): Promise<string>;
  makeClient(location: string): Promise<CloudClient>;
}

export interface CloudLocationReader {
  getLocations(args?: { includeUnavailable?: boolean }): Promise<Location[]>;
}

export interface CloudInstanceTypeReader extends CloudLocationReader {
  getInstanceTypes(args?: GetInstanceTypesArgs): Promise<InstanceType[]>;
  /** How often the catalog should be refreshed. */
  getInstanceTypePollTimeMs(): number;
}

export interface CloudInstanceReader {
  /** Throws InstanceNotFoundError when the provider has no such instance. */
  getInstance(cloudId: string): Promise<Instance>;
  listInstances(args?: ListInstancesArgs): Promise<Instance[]>;
  /** How often an instance's state should be polled. */
  getInstancePollTimeMs(): number;
}

export interface CloudCreateTerminateInstance extends CloudInstanceTypeReader, CloudInstanceReader {
  /**
   * Creates an instance, or returns the existing one with the same refId. On any error no instance
   * must be left behind.
   */
  createInstance(attrs: CreateInstanceAttrs): Promise<Instance>;
  /** Idempotent: terminating a terminated or unknown instance succeeds. */
  terminateInstance(cloudId: string): Promise<void>;
  getMaxCreateRequestsPerMinute(): number;
}

export interface CloudStopStartInstance {
  stopInstance(cloudId: string): Promise<void>;
  startInstance(cloudId: string): Promise<void>;
}
export interface CloudRebootInstance {
  rebootInstance(cloudId: string): Promise<void>;
}
export interface CloudInstanceTags {
  updateInstanceTags(args: { instanceId: string; tags: Tags }): Promise<void>;
}
export interface CloudModifyFirewall {
  addFirewallRulesToInstance(args: { instanceId: string; firewallRules: FirewallRules }): Promise<void>;
  revokeSecurityGroupRules(args: { instanceId: string; securityGroupRuleIds: string[] }): Promise<void>;
}
export interface CloudQuota {
  getInstanceTypeQuotas(args: { instanceType: string }): Promise<Quota>;
}

export type CloudClient = CloudCredential &
  CloudCreateTerminateInstance &
  Partial<CloudStopStartInstance & CloudRebootInstance & CloudInstanceTags & CloudModifyFirewall & CloudQuota>;

export async function supportsStopStart(c: CloudClient): Promise<boolean> {
  return (await c.getCapabilities()).includes('stop-start-instance') && !!c.stopInstance && !!c.startInstance;
}
export async function supportsReboot(c: CloudClient): Promise<boolean> {
  return (await c.getCapabilities()).includes('reboot-instance') && !!c.rebootInstance;
}
export async function supportsTags(c: CloudClient): Promise<boolean> {
  return (await c.getCapabilities()).includes('tags') && !!c.updateInstanceTags;
}
export async function supportsFirewall(c: CloudClient): Promise<boolean> {
  return (await c.getCapabilities()).includes('modify-firewall') && !!c.addFirewallRulesToInstance;
}

/** Methods each optional capability requires, used by the conformance suite's declaration check. */
export const CAPABILITY_METHODS: Partial<Record<Capability, (keyof CloudClient)[]>> = {
  'stop-start-instance': ['stopInstance', 'startInstance'],
  'reboot-instance': ['rebootInstance'],
  tags: ['updateInstanceTags'],
  'modify-firewall': ['addFirewallRulesToInstance', 'revokeSecurityGroupRules'],
};

export const DEFAULT_INSTANCE_POLL_MS = 5_000;
export const DEFAULT_INSTANCE_TYPE_POLL_MS = 60_000;
export const DEFAULT_MAX_CREATE_REQUESTS_PER_MINUTE = 10;

/** Lifecycle timeouts from the contract. */
export const LIFECYCLE_TIMEOUTS_MS = {
  pendingToRunning: 20 * 60_000,
  runningToStopped: 10 * 60_000,
  stoppedToRunning: 20 * 60_000,
  runningToTerminated: 20 * 60_000,
  runningSsh: 10 * 60_000,
} as const;
