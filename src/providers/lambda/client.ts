/**
 * The Lambda Cloud adapter: the provider contract over Lambda's public API v1.8.3.
 *
 * - Catalog: `GET /instance-types` gives every type once with the regions that have capacity now;
 *   the contract wants one instance type per (type, region), so each type is listed in every known
 *   region (shared/notes/brev-sdk-v1.md §6: Brev did the same), available where Lambda says so.
 * - Identity: Lambda takes SSH keys by name, so the key is registered under the instance's refId
 *   (Brev's convention, and the fallback to read refId back). refId, the credential's refId and the
 *   creation time are also written as tags (v1.8.3 has tags; Lambda has no created_at field). The
 *   instance name is the requested one, else Brev's `{credRefId}--{UTC time}`.
 * - Errors: see ./http.ts. No spot, no stop/start in Lambda's API.
 */
import { z } from 'zod';
import type { Capability } from '../sdk/capabilities.js';
import type { CloudClient, CloudCredential } from '../sdk/client.js';
import { invalidArgs, isInstanceSelectedByArgs } from '../sdk/clientArgs.js';
import { CredentialBoundClient } from '../sdk/credentialBoundClient.js';
import { InstanceNotFoundError, InvalidRequestError, isCloudError, AuthenticationError } from '../sdk/errors.js';
import { makeGenericInstanceTypeIdFromInstance } from '../sdk/ids.js';
import { CreateInstanceAttrsSchema, GetInstanceTypesArgsSchema, isSelectedByArgs, ListInstancesArgsSchema, type CreateInstanceAttrs, type GetInstanceTypesArgs, type Instance, type InstanceType, type ListInstancesArgs, type Location } from '../sdk/types.js';
import { LAMBDA_NAME_MAX, LAMBDA_RATE_LIMITS, LAMBDA_USER_DATA_MAX_BYTES, LambdaInstanceSchema, LambdaInstanceTypesSchema, LambdaLaunchResponseSchema, LambdaRestartResponseSchema, LambdaSshKeySchema, LambdaTerminateResponseSchema, type LambdaInstanceWire, type LambdaLaunchRequest } from './api.js';
import { callLambda, type LambdaHttpTarget } from './http.js';
import { LAMBDA_TAGS, LAMBDA_SSH_USER, LAMBDA_SSH_PORT, brevInstanceName, sshKeyNameFor, lambdaInstance, sameKey, launchTags } from './instances.js';
import { lambdaLocations, lambdaInstanceTypes } from './catalog.js';

/**
 * Exactly what this adapter implements against Lambda's API. Not: stop-start (the API has none),
 * tags (tags are set at launch; there is no call to change them), modify-firewall (firewall
 * rulesets are not wired), create-instance-idempotent (launch takes no idempotency key; a retry
 * finds an earlier launch through the refId-named SSH key, but that is not atomic).
 */
export const LAMBDA_CAPABILITIES: readonly Capability[] = [
  'create-instance',
  'terminate-instance',
  'create-terminate-instance',
  'reboot-instance',
  'instance-userdata',
];

const enc = encodeURIComponent;

/**
 * What the client needs of its credential (LambdaCredential in ./credential.ts implements it). Declared
 * here so the client does not import the credential that makes it.
 */
export interface LambdaClientCredential extends CloudCredential {
  readonly testReplica: boolean;
  readonly instancePollMs: number;
  httpTarget(): LambdaHttpTarget;
}

export class LambdaClient extends CredentialBoundClient<LambdaClientCredential> implements CloudClient {
  /** Private: it holds the API key. */
  readonly #target: LambdaHttpTarget;

  constructor(credential: LambdaClientCredential, location: string) {
    super(credential, location);
    this.#target = credential.httpTarget();
  }

  // --- catalog ----------------------------------------------------------------------------------

  /** Lambda has no regions endpoint: the known regions, all open (availability is per type). */
  async getLocations(_args?: { includeUnavailable?: boolean }): Promise<Location[]> {
    return lambdaLocations();
  }

  async getInstanceTypes(args: GetInstanceTypesArgs = {}): Promise<InstanceType[]> {
    const parsed = GetInstanceTypesArgsSchema.safeParse(args);
    if (!parsed.success) throw invalidArgs('getInstanceTypes', parsed.error);
    // The API is global: there is no server-side filter, every filter is applied here.
    const data = await callLambda(this.#target, 'GET', '/instance-types', LambdaInstanceTypesSchema, { op: 'catalog' });
    return lambdaInstanceTypes(data).filter((it) => isSelectedByArgs(it, parsed.data));
  }

  /** Brev's value: Lambda's catalog changes slowly and the API allows about one request per second. */
  getInstanceTypePollTimeMs(): number {
    return 5 * 60_000;
  }

  // --- instances: reads -------------------------------------------------------------------------

  private toInstance(w: LambdaInstanceWire): Instance {
    return lambdaInstance(w, { testReplica: this.credential.testReplica });
  }

  async getInstance(cloudId: string): Promise<Instance> {
    return this.toInstance(await callLambda(this.#target, 'GET', `/instances/${enc(cloudId)}`, LambdaInstanceSchema, { op: 'instance' }));
  }

  async listInstances(args: ListInstancesArgs = {}): Promise<Instance[]> {
    const parsed = ListInstancesArgsSchema.safeParse(args);
    if (!parsed.success) throw invalidArgs('listInstances', parsed.error);
    const a = parsed.data;
    if (a.instanceIds && a.instanceIds.length === 0) return [];
    const all = (await callLambda(this.#target, 'GET', '/instances', z.array(LambdaInstanceSchema), { op: 'instance' })).map((w) => this.toInstance(w));
    return all.filter((i) => isInstanceSelectedByArgs(i, a));
  }

  getInstancePollTimeMs(): number {
    return this.credential.instancePollMs;
  }

  // --- instances: lifecycle ---------------------------------------------------------------------

  /**
   * Registers the public key under the refId-named SSH key (or finds it), then launches. If the key
   * already exists, an earlier attempt may have launched: an instance carrying the refId is
   * returned instead of launching a second one.
   */
  async createInstance(attrs: CreateInstanceAttrs): Promise<Instance> {
    const parsed = CreateInstanceAttrsSchema.safeParse(attrs);
    if (!parsed.success) throw invalidArgs('createInstance', parsed.error);
    const a = parsed.data;
    if (a.useSpot) throw new InvalidRequestError('lambda: the API has no spot or interruptible instances');
    if (a.firewallRules.ingressRules.length > 0 || a.firewallRules.egressRules.length > 0) {
      throw new InvalidRequestError('lambda: firewall rules at create are not supported by this adapter (gpuflow applies the host firewall over SSH at bootstrap)');
    }
    if (a.subLocation) throw new InvalidRequestError(`lambda: regions have no sub-locations (got "${a.subLocation}")`);
    let userData: string | undefined;
    if (a.userDataBase64) {
      userData = Buffer.from(a.userDataBase64, 'base64').toString('utf8');
      if (Buffer.byteLength(userData) > LAMBDA_USER_DATA_MAX_BYTES) throw new InvalidRequestError('lambda: user data is larger than 1 MB');
    }
    const now = new Date();
    const credRefId = this.getReferenceId();
    const tags = launchTags(a.tags, {
      [LAMBDA_TAGS.refId]: a.refId,
      [LAMBDA_TAGS.cloudCredRefId]: credRefId,
      [LAMBDA_TAGS.createdAt]: now.toISOString(),
    });

    const keyName = sshKeyNameFor(a.refId);
    const keys = await callLambda(this.#target, 'GET', '/ssh-keys', z.array(LambdaSshKeySchema), { op: 'ssh-key' });
    const existingKey = keys.find((k) => k.name === keyName);
    if (existingKey) {
      if (!sameKey(existingKey.public_key, a.publicKey)) {
        throw new InvalidRequestError(`lambda: an SSH key named "${keyName}" exists with a different public key`);
      }
      const earlier = (await this.listInstances({})).find((i) => i.refId === a.refId && i.status.lifecycleStatus !== 'terminated' && i.status.lifecycleStatus !== 'terminating');
      if (earlier) return earlier;
    } else {
      await callLambda(this.#target, 'POST', '/ssh-keys', LambdaSshKeySchema, { op: 'ssh-key', body: { name: keyName, public_key: a.publicKey.trim() } });
    }

    const body: LambdaLaunchRequest = {
      region_name: a.location,
      instance_type_name: a.instanceType,
      ssh_key_names: [keyName],
      name: (a.name || brevInstanceName(credRefId, now)).slice(0, LAMBDA_NAME_MAX),
      tags,
      ...(userData !== undefined ? { user_data: userData } : {}),
      ...(a.imageId ? { image: { id: a.imageId } } : {}),
    };
    const launched = await callLambda(this.#target, 'POST', '/instance-operations/launch', LambdaLaunchResponseSchema, { op: 'launch', body });
    if (launched.instance_ids.length !== 1) {
      throw new InvalidRequestError(`lambda launch returned ${launched.instance_ids.length} instance IDs, expected 1`);
    }
    const id = launched.instance_ids[0]!;
    try {
      return await this.getInstance(id);
    } catch (e) {
      if (e instanceof AuthenticationError) throw e;
      // The launch happened: never report a failure for an instance that exists. Return what we
      // know; the caller polls getInstance for the rest.
      this.#target.logger?.debug({ id, err: isCloudError(e) ? e.message : String(e) }, 'lambda: reading the launched instance failed; returning what the launch said');
      return {
        name: body.name ?? '',
        refId: a.refId,
        cloudCredRefId: credRefId,
        createdAt: now.toISOString(),
        cloudId: id,
        publicIp: '',
        publicDns: '',
        privateIp: '',
        hostname: '',
        imageId: a.imageId,
        instanceType: a.instanceType,
        instanceTypeId: makeGenericInstanceTypeIdFromInstance({ location: a.location, instanceType: a.instanceType }),
        sshUser: this.credential.testReplica ? '' : LAMBDA_SSH_USER,
        sshPort: this.credential.testReplica ? 0 : LAMBDA_SSH_PORT,
        status: { lifecycleStatus: 'pending', messages: ['launched; details not read yet'] },
        spot: false,
        firewallRules: { ingressRules: [], egressRules: [] },
        location: a.location,
        subLocation: '',
        tags: Object.fromEntries(tags.map((t) => [t.key, t.value])),
        stoppable: false,
        rebootable: true,
        isContainer: false,
        notPrivileged: this.credential.testReplica,
      };
    }
  }

  /** Idempotent: an unknown or terminated instance is fine. Then the refId-named SSH key is removed (best effort). */
  async terminateInstance(cloudId: string): Promise<void> {
    let terminated: LambdaInstanceWire[];
    try {
      terminated = (
        await callLambda(this.#target, 'POST', '/instance-operations/terminate', LambdaTerminateResponseSchema, {
          op: 'instance',
          body: { instance_ids: [cloudId] },
        })
      ).terminated_instances;
    } catch (e) {
      if (e instanceof InstanceNotFoundError) return;
      throw e;
    }
    for (const w of terminated) await this.removeOwnSshKey(w);
  }

  /** Deletes the SSH key this adapter registered for the instance; errors are logged, never thrown. */
  private async removeOwnSshKey(w: LambdaInstanceWire): Promise<void> {
    const refId = (w.tags ?? []).find((t) => t.key === LAMBDA_TAGS.refId)?.value;
    const keyName = w.ssh_key_names[0];
    if (!refId || !keyName || keyName !== sshKeyNameFor(refId)) return; // not a key we made
    try {
      const keys = await callLambda(this.#target, 'GET', '/ssh-keys', z.array(LambdaSshKeySchema), { op: 'ssh-key' });
      const key = keys.find((k) => k.name === keyName);
      if (key) await callLambda(this.#target, 'DELETE', `/ssh-keys/${enc(key.id)}`, z.unknown(), { op: 'ssh-key' });
    } catch (e) {
      this.#target.logger?.debug({ keyName, err: isCloudError(e) ? e.message : String(e) }, 'lambda: removing the instance SSH key failed (left in the account)');
    }
  }

  /** Five launches per minute (one per 12 s), as documented. */
  getMaxCreateRequestsPerMinute(): number {
    return LAMBDA_RATE_LIMITS.launchesPerMinute;
  }

  async rebootInstance(cloudId: string): Promise<void> {
    await callLambda(this.#target, 'POST', '/instance-operations/restart', LambdaRestartResponseSchema, { op: 'instance', body: { instance_ids: [cloudId] } });
  }
}
