/**
 * AWS EC2 wire facts the adapter relies on, from AWS's Smithy model for EC2
 * (aws/api-models-aws `models/ec2/service/2016-11-15/ec2-2016-11-15.json`, the model
 * @aws-sdk/client-ec2 is generated from) and the EC2 API reference. The SDK itself serializes the
 * Query protocol and parses the XML; this file holds the names and values the adapter reads.
 */
import { z } from 'zod';
import type { Capability } from '../sdk/capabilities.js';

export const AWS_PROVIDER_ID = 'aws';

/** `InstanceState.Name` values (API_InstanceState): code 0, 16, 32, 48, 64, 80. */
export const EC2_STATE_NAMES = ['pending', 'running', 'shutting-down', 'terminated', 'stopping', 'stopped'] as const;
export type Ec2StateName = (typeof EC2_STATE_NAMES)[number];

/** `StateReason.Code` of a spot instance AWS took back (API_StateReason). */
export const SPOT_TERMINATION_REASON = 'Server.SpotInstanceTermination';
/** The same for `InstanceInterruptionBehavior: stop`. */
export const SPOT_SHUTDOWN_REASON = 'Server.SpotInstanceShutdown';
/** Host failures: "Server.InternalError" and "Server.ScheduledStop" (API_StateReason). */
export const HOST_FAILURE_REASONS = ['Server.InternalError', 'Server.ScheduledStop'] as const;

/** Linux on-demand/spot prices are quoted for this product description (DescribeSpotPriceHistory). */
export const LINUX_PRODUCT_DESCRIPTION = 'Linux/UNIX';

/**
 * The default image: AWS's "Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04)", owned by
 * Amazon, newest first (AWS's DLAMI release notes name it so; DescribeImages with these filters is
 * how AWS's docs find the current ID in a region).
 */
export const DEFAULT_AMI_NAME_PATTERN = 'Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04) *';
export const DEFAULT_AMI_OWNER = 'amazon';
/** Ubuntu AMIs log in as "ubuntu". */
export const DEFAULT_SSH_USER = 'ubuntu';

/** Tag keys gpuflow writes on every instance (TagSpecifications on RunInstances). */
export const AWS_TAG_KEYS = {
  name: 'Name',
  refId: 'gpuflow-ref-id',
  cloudCredRefId: 'gpuflow-cloud-cred-ref-id',
} as const;

/**
 * Test only: tags the replica (test/replicas/aws) puts on instances whose "machine" is an sshd
 * of the test user on a non-22 port. Real EC2 has no such tags; the adapter reads them only with
 * `testReplica: true`. (`aws:` is reserved for AWS, so the replica uses its own prefix.)
 */
export const REPLICA_TAG_KEYS = { sshPort: 'gpuflow-replica:ssh-port', sshUser: 'gpuflow-replica:ssh-user', notPrivileged: 'gpuflow-replica:not-privileged' } as const;

/** ClientToken: up to 64 ASCII characters (Run_Instance_Idempotency). */
export const CLIENT_TOKEN_MAX = 64;

/** Static keys, as an IAM user's access key (the secret file or store holds this JSON). */
export const AwsStaticKeysSchema = z
  .object({
    accessKeyId: z.string().regex(/^[A-Z0-9]{16,128}$/, 'accessKeyId must be an AWS access key ID such as AKIAIOSFODNN7EXAMPLE (upper-case letters and digits)'),
    secretAccessKey: z.string().min(16, 'secretAccessKey must be the 40-character secret of the access key').refine((s) => !/\s/.test(s), { message: 'secretAccessKey must not contain whitespace' }),
    sessionToken: z.string().min(1).optional(),
  })
  .strict();
export type AwsStaticKeys = z.infer<typeof AwsStaticKeysSchema>;

/** Reads a secret file's text: JSON `{accessKeyId, secretAccessKey[, sessionToken]}`. */
export function parseAwsStaticKeys(text: string): AwsStaticKeys {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error('invalid AWS credential: the secret must be JSON {"accessKeyId": "AKIA...", "secretAccessKey": "..."} (it was not JSON; nothing of it is shown)');
  }
  const r = AwsStaticKeysSchema.safeParse(raw);
  if (!r.success) throw new Error(`invalid AWS credential: ${r.error.issues.map((i) => `${i.path.join('.') || '(secret)'}: ${i.message}`).join('; ')}`);
  return r.data;
}

/**
 * Exactly what this adapter implements. Not declared: stop-start-instance (spot instances cannot
 * be stopped with terminate behaviour, and the replica's machines do not stop), modify-firewall
 * (security groups are shared by rule set), machine-image, vpc.
 */
export const AWS_CAPABILITIES: readonly Capability[] = [
  'create-instance',
  'create-instance-idempotent',
  'terminate-instance',
  'create-terminate-instance',
  'instance-userdata',
  'tags',
  'reboot-instance',
];
