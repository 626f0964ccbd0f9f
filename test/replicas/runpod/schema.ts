/**
 * The part of RunPod's GraphQL schema the replica serves, as SDL. RunPod publishes no SDL (its
 * schema lives at graphql-spec.runpod.io); these types and fields are the ones documented in
 * runpod/docs (sdks/graphql), used by runpod-python, runpodctl, dstack and gpuhunt, and recorded in
 * shared/notes/provider-apis.md §2a, with RunPod's own spellings (`podRentInterruptable`,
 * `uninterruptablePrice`). A query for a field outside it fails validation, as it would at RunPod.
 *
 * `gpuflowReplica` is the one test-only addition (the SSH user of the shared test host).
 */
export const RUNPOD_REPLICA_SDL = /* GraphQL */ `
scalar Void

enum PodStatus { CREATED RUNNING RESTARTING EXITED PAUSED DEAD TERMINATED }
enum PodType { INTERRUPTABLE RESERVED BID BACKGROUND }
enum CloudTypeEnum { ALL SECURE COMMUNITY }

type Query {
  myself: User
  pod(input: PodFilter): Pod
  gpuTypes(input: GpuTypeFilter): [GpuType]
  dataCenters: [DataCenter]
}

type Mutation {
  podFindAndDeployOnDemand(input: PodFindAndDeployOnDemandInput): Pod
  podRentInterruptable(input: PodRentInterruptableInput!): Pod
  podBidResume(input: PodBidResumeInput!): Pod
  podTerminate(input: PodTerminateInput): Void
}

input PodFilter { podId: String! }
input GpuTypeFilter { id: String, ids: [String!] }
input PodTerminateInput { podId: String! }
input PodBidResumeInput { podId: String!, bidPerGpu: Float!, gpuCount: Int }
input EnvironmentVariableInput { key: String!, value: String! }

input GpuLowestPriceInput {
  gpuCount: Int
  secureCloud: Boolean
  dataCenterId: String
  countryCode: String
  minDisk: Int
  minMemoryInGb: Int
  minVcpuCount: Int
  minCudaVersion: String
  globalNetwork: Boolean
}

input PodFindAndDeployOnDemandInput {
  name: String
  imageName: String
  gpuTypeId: String
  gpuCount: Int
  cloudType: CloudTypeEnum
  dataCenterId: String
  countryCode: String
  volumeInGb: Int
  containerDiskInGb: Int
  minVcpuCount: Int
  minMemoryInGb: Int
  dockerArgs: String
  ports: String
  volumeMountPath: String
  env: [EnvironmentVariableInput]
  templateId: String
  networkVolumeId: String
  allowedCudaVersions: [String]
  minCudaVersion: String
  startSsh: Boolean
  startJupyter: Boolean
  supportPublicIp: Boolean
}

input PodRentInterruptableInput {
  bidPerGpu: Float!
  name: String
  imageName: String
  gpuTypeId: String
  gpuCount: Int
  cloudType: CloudTypeEnum
  dataCenterId: String
  countryCode: String
  volumeInGb: Int
  containerDiskInGb: Int
  minVcpuCount: Int
  minMemoryInGb: Int
  dockerArgs: String
  ports: String
  volumeMountPath: String
  env: [EnvironmentVariableInput]
  templateId: String
  networkVolumeId: String
  allowedCudaVersions: [String]
  minCudaVersion: String
  startSsh: Boolean
  startJupyter: Boolean
  supportPublicIp: Boolean
}

type User { id: String, pods: [Pod] }

type GpuType {
  id: String
  displayName: String
  manufacturer: String
  memoryInGb: Int
  secureCloud: Boolean
  communityCloud: Boolean
  securePrice: Float
  communityPrice: Float
  secureSpotPrice: Float
  communitySpotPrice: Float
  maxGpuCount: Int
  maxGpuCountSecureCloud: Int
  maxGpuCountCommunityCloud: Int
  lowestPrice(input: GpuLowestPriceInput!): LowestPrice
  nodeGroupDatacenters: [DataCenter]
}

type LowestPrice {
  gpuName: String
  gpuTypeId: String
  minimumBidPrice: Float
  uninterruptablePrice: Float
  minVcpu: Int
  minMemory: Int
  stockStatus: String
  availableGpuCounts: [Int]
  maxUnreservedGpuCount: Int
}

type DataCenter {
  id: String
  name: String
  location: String
  listed: Boolean
  storageSupport: Boolean
  globalNetwork: Boolean
  gpuAvailability: [GpuAvailability]
}

type GpuAvailability {
  id: String
  available: Boolean
  stockStatus: String
  gpuTypeId: String
  gpuTypeDisplayName: String
  displayName: String
}

type Pod {
  id: String!
  name: String
  desiredStatus: PodStatus
  podType: PodType
  costPerHr: Float
  adjustedCostPerHr: Float
  gpuCount: Int
  vcpuCount: Float
  memoryInGb: Float
  containerDiskInGb: Int
  volumeInGb: Float
  volumeMountPath: String
  imageName: String
  env: [String]
  ports: String
  machineId: String
  machine: PodMachineInfo
  lastStatusChange: String
  uptimeSeconds: Int
  runtime: PodRuntime
  locked: Boolean
  lowestBidPriceToResume: Float
  gpuflowReplica: GpuflowReplicaPod
}

type PodMachineInfo { podHostId: String, gpuDisplayName: String, dataCenterId: String, location: String }
type PodRuntime { uptimeInSeconds: Int, ports: [PodRuntimePorts], gpus: [PodRuntimeGpus] }
type PodRuntimePorts { ip: String, isIpPublic: Boolean, privatePort: Int, publicPort: Int, type: String }
type PodRuntimeGpus { id: String, gpuUtilPercent: Int, memoryUtilPercent: Int }

"Test only: not part of RunPod's API."
type GpuflowReplicaPod { sshUser: String }
`;
