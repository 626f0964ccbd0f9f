/**
 * An AWS connection in connections.yaml (`kind: aws`, the API-key fields, `regions`, `profile`,
 * `endpoint` …), and the adapter the registry makes its credential with. The secret source is
 * optional here, unlike other kinds: without `apiKeyFile`/`credentialRef` the SDK finds the
 * credentials itself (profile, environment, instance role). With one, the secret is the JSON of
 * an access key, `{"accessKeyId": "...", "secretAccessKey": "..."[, "sessionToken": "..."]}`.
 */
import { z } from 'zod';
import { defineProviderAdapter } from '../adapter/adapter.js';
import { apiKeyConnectionFields } from '../adapter/connectionFields.js';
import { parseAwsStaticKeys } from './api.js';
import { AwsCredential } from './credential.js';

export const AwsConnectionSchema = z
  .object({
    kind: z.literal('aws'),
    ...apiKeyConnectionFields,
    regions: z.array(z.string().min(1)).min(1, 'regions must list at least one AWS region such as us-east-1'),
    profile: z.string().min(1, 'profile must name a profile of ~/.aws/config').optional(),
    /** One endpoint for every region; tests point it at the replica. */
    endpoint: z.url('endpoint must be a URL such as https://ec2.us-east-1.amazonaws.com').optional(),
    catalogFile: z.string().min(1).optional(),
    amiId: z.string().optional(),
  })
  .strict();
export type AwsConnection = z.output<typeof AwsConnectionSchema>;

/** The credential of a connection; `secret` is the secret file's or store entry's text, if it names one. */
function awsCredentialFromConnection(c: AwsConnection, secret: string | undefined): AwsCredential {
  return new AwsCredential({
    refId: c.name,
    regions: c.regions,
    ...(secret !== undefined ? { keys: parseAwsStaticKeys(secret) } : {}),
    ...(c.profile ? { profile: c.profile } : {}),
    ...(c.endpoint ? { endpoint: c.endpoint } : {}),
    ...(c.catalogFile ? { catalogFile: c.catalogFile } : {}),
    ...(c.amiId ? { amiId: c.amiId } : {}),
    ...(c.testReplica ? { testReplica: true } : {}),
  });
}

export const awsAdapter = defineProviderAdapter({
  kind: 'aws',
  connectionSchema: AwsConnectionSchema,
  secretFileField: 'apiKeyFile',
  urlField: 'endpoint',
  // EC2 bills Linux instances per second with a 60-second minimum (aws.amazon.com/ec2/pricing).
  defaultBilling: { granularity: 'second', minimumSeconds: 60 },
  credential: (c, secret) => awsCredentialFromConnection(c, secret),
  // No secret source: the SDK's default chain, or the connection's `profile`.
  credentialWithoutSecret: (c) => awsCredentialFromConnection(c, undefined),
});
