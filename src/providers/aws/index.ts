/** The AWS EC2 provider (@aws-sdk/client-ec2). See README.md for what is supported. */
export { AwsCredential, AwsCredentialOptionsSchema, DEFAULT_AWS_CATALOG_FILE, type AwsCredentialOptions } from './credential.js';
export { AWS_CAPABILITIES } from './api.js';
export { AwsClient, clientTokenFor, ingressPermissions, keyPairNameFor, securityGroupNameFor } from './client.js';
export { awsFamily, awsGpu, awsInstanceTypes, catalogPrice, parseAwsCatalogCsv, spotKey, type AwsCatalogRow, type AwsZone, type Ec2InstanceTypeInfo } from './catalog.js';
export { awsInstance, ec2Status, ec2Tags, regionOfZone, transitionTime, type Ec2Instance } from './instances.js';
export { AWS_ERROR_TABLE, AWS_THROTTLE_RETRY_AFTER_MS, awsErrorCode, awsErrorFrom, callEc2, sendEc2, type AwsErrorKind, type AwsErrorRule } from './http.js';
export { AWS_REGIONS, awsRegionCountry, type AwsRegionInfo } from './regions.js';
export { awsAdapter, AwsConnectionSchema, type AwsConnection } from './connection.js';
export { IMDS_BASE, SPOT_NOTICE_KILL_MARGIN_S, SPOT_NOTICE_POLL_S, spotNoticeWatcherScript } from './spotNotice.js';
export * from './api.js';
