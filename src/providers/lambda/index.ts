/** The Lambda Cloud provider (API v1.8.3). See README.md for what is supported. */
export { LambdaCredential, LambdaCredentialOptionsSchema, isLoopbackUrl, type LambdaCredentialOptions } from './credential.js';
export { LambdaClient, LAMBDA_CAPABILITIES, type LambdaClientCredential } from './client.js';
export { lambdaGpu, lambdaInstanceTypes, lambdaLocations } from './catalog.js';
export { LAMBDA_TAGS, LAMBDA_SSH_PORT, LAMBDA_SSH_USER, brevInstanceName, parseBrevInstanceName, lambdaInstance, lambdaStatus, launchTags, sshKeyNameFor } from './instances.js';
export { authorizationHeader, callLambda, documentedRateLimitWaitMs, lambdaErrorFromResponse, type LambdaHttpTarget, type LambdaOperation } from './http.js';
export { LAMBDA_PUBLIC_REGION_CODES, LAMBDA_REGIONS, lambdaRegion, lambdaRegionCountry, type LambdaRegion } from './regions.js';
export * from './api.js';
export { lambdaAdapter, LambdaConnectionSchema, type LambdaConnection } from './connection.js';
