/** The RunPod provider (GraphQL API). See README.md for what is supported. */
export { RunPodCredential, RunPodCredentialOptionsSchema, type RunPodCredentialOptions } from './credential.js';
export { RunPodClient, RUNPOD_CAPABILITIES, RUNPOD_DEFAULT_IMAGE, type RunPodClientCredential } from './client.js';
export {
  RUNPOD_DEFAULT_CONTAINER_DISK_GB,
  runpodGpu,
  runpodInstanceTypes,
  runpodLocations,
  runpodPrice,
  runpodTypeId,
  runpodTypeName,
  splitRunPodType,
} from './catalog.js';
export { runpodDataCenterCountry } from './dataCenters.js';
export {
  RUNPOD_IDENTITY_ENV,
  RUNPOD_PUBLIC_KEY_ENV,
  encodeRunPodTags,
  parseRunPodEnv,
  parseRunPodTags,
  runpodCreateEnv,
  runpodInstance,
  runpodStatus,
  sshPort,
} from './instances.js';
export { callRunPod, runpodErrorFromGraphQl, runpodErrorFromResponse, RUNPOD_DEFAULT_RATE_LIMIT_WAIT_MS, type RunPodHttpTarget, type RunPodOperation } from './http.js';
export * from './api.js';
export { runpodAdapter, RunPodConnectionSchema, type RunPodConnection } from './connection.js';
