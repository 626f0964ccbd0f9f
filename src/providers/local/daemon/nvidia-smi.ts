/**
 * A fake `nvidia-smi` (a bash script in each instance's bin/). It reports the instance type's GPUs;
 * utilization comes from the file at $GPUFLOW_GPU_UTIL_FILE (one integer percent per line, per GPU;
 * missing = 0) and memory.used is that share of memory.total.
 */
import { createHash } from 'node:crypto';
import { shellQuote } from '../../../ssh/shellQuote.js';
import { byteCount } from '../../sdk/bytes.js';
import type { ResolvedGpu } from './catalog.js';

export const FAKE_DRIVER_VERSION = '550.54.15';
export const FAKE_CUDA_VERSION = '12.4';

function fakeUuid(instanceId: string, index: number): string {
  const h = createHash('sha256').update(`${instanceId}/${index}`).digest('hex');
  return `GPU-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function nvidiaSmiScript(args: { instanceId: string; gpu: ResolvedGpu | undefined; defaultUtilFile: string }): string {
  const count = args.gpu?.count ?? 0;
  const memTotalMiB = args.gpu ? Number(byteCount(args.gpu.memory) / 2n ** 20n) : 0;
  const uuids = Array.from({ length: count }, (_, i) => shellQuote(fakeUuid(args.instanceId, i))).join(' ');
  const powerCap = args.gpu ? powerCapFor(args.gpu.name) : 0;
  return `#!/usr/bin/env bash
# Fake nvidia-smi of gpuflow local cloud instance ${args.instanceId}: simulated GPUs.
set -u
GPU_COUNT=${count}
GPU_NAME=${shellQuote(args.gpu?.productName ?? '')}
MEM_TOTAL=${memTotalMiB}
POWER_CAP=${powerCap}
UUIDS=(${uuids})
DRIVER=${FAKE_DRIVER_VERSION}
CUDA=${FAKE_CUDA_VERSION}
UTIL_FILE="\${GPUFLOW_GPU_UTIL_FILE:-${args.defaultUtilFile.replace(/["\\$`]/g, '\\$&')}}"

if [ "$GPU_COUNT" -eq 0 ]; then
  echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running." >&2
  exit 9
fi

lines=()
if [ -r "$UTIL_FILE" ]; then mapfile -t lines < "$UTIL_FILE"; fi
UTIL=(); MEMUSED=(); TEMP=(); POWER=()
for ((i = 0; i < GPU_COUNT; i++)); do
  v="\${lines[$i]:-0}"
  if [[ "$v" =~ ^[[:space:]]*([0-9]+) ]]; then v=$((10#\${BASH_REMATCH[1]})); else v=0; fi
  if ((v > 100)); then v=100; fi
  UTIL[$i]=$v
  MEMUSED[$i]=$((MEM_TOTAL * v / 100))
  TEMP[$i]=$((30 + v * 45 / 100))
  POWER[$i]=$((POWER_CAP / 10 + (POWER_CAP * 8 / 10) * v / 100))
done

usage() {
  cat <<'USAGE'
NVIDIA System Management Interface (gpuflow local cloud simulation)
  nvidia-smi                          summary table
  nvidia-smi -L                       list GPUs
  nvidia-smi -i 0,1 ...               select GPUs
  nvidia-smi --query-gpu=index,name,utilization.gpu,memory.used,memory.total --format=csv[,noheader][,nounits]
USAGE
}

query=""; format=""; list=0; ids=""
while [ $# -gt 0 ]; do
  case "$1" in
    --query-gpu=*) query="\${1#*=}" ;;
    --query-gpu) shift; query="\${1:-}" ;;
    --format=*) format="\${1#*=}" ;;
    --format) shift; format="\${1:-}" ;;
    -L|--list-gpus) list=1 ;;
    -i|--id) shift; ids="\${1:-}" ;;
    --id=*) ids="\${1#*=}" ;;
    -h|--help) usage; exit 0 ;;
    *) echo "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help." >&2; exit 2 ;;
  esac
  shift
done

SEL=()
if [ -n "$ids" ]; then
  IFS=',' read -r -a wanted <<< "$ids"
  for w in "\${wanted[@]}"; do
    w="\${w//[[:space:]]/}"
    if ! [[ "$w" =~ ^[0-9]+$ ]] || ((w >= GPU_COUNT)); then echo "No devices were found" >&2; exit 6; fi
    SEL+=("$w")
  done
else
  for ((i = 0; i < GPU_COUNT; i++)); do SEL+=("$i"); done
fi

if [ "$list" -eq 1 ]; then
  for i in "\${SEL[@]}"; do echo "GPU $i: $GPU_NAME (UUID: \${UUIDS[$i]})"; done
  exit 0
fi

if [ -n "$query" ]; then
  case "$format" in csv*) ;; *) echo 'Please specify --format=csv (with optional noheader and nounits).' >&2; exit 2 ;; esac
  header=1; units=1
  [[ ",$format," == *",noheader,"* ]] && header=0
  [[ ",$format," == *",nounits,"* ]] && units=0
  IFS=',' read -r -a fields <<< "$query"
  # field -> header label, unit suffix
  label() {
    case "$1" in
      utilization.gpu|utilization.memory) echo "$1 [%]" ;;
      memory.used|memory.total|memory.free) echo "$1 [MiB]" ;;
      power.draw|power.limit) echo "$1 [W]" ;;
      *) echo "$1" ;;
    esac
  }
  value() { # field index
    local f="$1" i="$2" pct="" mib="" w=""
    case "$f" in
      index) echo "$i" ;;
      name|gpu_name) echo "$GPU_NAME" ;;
      uuid|gpu_uuid) echo "\${UUIDS[$i]}" ;;
      count) echo "$GPU_COUNT" ;;
      driver_version) echo "$DRIVER" ;;
      pci.bus_id|gpu_bus_id) printf '00000000:%02X:00.0\\n' $((i + 1)) ;;
      pstate) echo "P0" ;;
      temperature.gpu) echo "\${TEMP[$i]}" ;;
      utilization.gpu|utilization.memory) pct="\${UTIL[$i]}" ;;
      memory.used) mib="\${MEMUSED[$i]}" ;;
      memory.total) mib="$MEM_TOTAL" ;;
      memory.free) mib=$((MEM_TOTAL - MEMUSED[i])) ;;
      power.draw) w="\${POWER[$i]}.00" ;;
      power.limit) w="$POWER_CAP.00" ;;
      *) return 1 ;;
    esac
    if [ -n "$pct" ]; then if [ "$units" -eq 1 ]; then echo "$pct %"; else echo "$pct"; fi; fi
    if [ -n "$mib" ]; then if [ "$units" -eq 1 ]; then echo "$mib MiB"; else echo "$mib"; fi; fi
    if [ -n "$w" ]; then if [ "$units" -eq 1 ]; then echo "$w W"; else echo "$w"; fi; fi
    return 0
  }
  for ((k = 0; k < \${#fields[@]}; k++)); do
    f="\${fields[$k]//[[:space:]]/}"
    fields[$k]="$f"
    if ! value "$f" 0 > /dev/null; then echo "Field \\"$f\\" is not a valid field to query." >&2; exit 2; fi
  done
  if [ "$header" -eq 1 ]; then
    out=""
    for f in "\${fields[@]}"; do out="\${out:+$out, }$(label "$f")"; done
    echo "$out"
  fi
  for i in "\${SEL[@]}"; do
    out=""; first=1
    for f in "\${fields[@]}"; do
      v="$(value "$f" "$i")"
      if [ "$first" -eq 1 ]; then out="$v"; first=0; else out="$out, $v"; fi
    done
    echo "$out"
  done
  exit 0
fi

sep='+-----------------------------------------+------------------------+----------------------+'
date '+%a %b %e %H:%M:%S %Y'
echo '+-----------------------------------------------------------------------------------------+'
printf '| NVIDIA-SMI %-22s Driver Version: %-14s CUDA Version: %-9s|\\n' "$DRIVER" "$DRIVER" "$CUDA"
echo '|-----------------------------------------+------------------------+----------------------+'
echo '| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |'
echo '| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |'
echo '|=========================================+========================+======================|'
for i in "\${SEL[@]}"; do
  printf '| %3d  %-29.29s  On  | %18s Off | %20s |\\n' "$i" "$GPU_NAME" "$(printf '00000000:%02X:00.0' $((i + 1)))" "0"
  printf '| N/A  %3dC    P0  %12s / %5s | %9sMiB / %6sMiB | %6s%%      Default |\\n' "\${TEMP[$i]}" "\${POWER[$i]}W" "\${POWER_CAP}W" "\${MEMUSED[$i]}" "$MEM_TOTAL" "\${UTIL[$i]}"
  echo "$sep"
done
echo
echo '+-----------------------------------------------------------------------------------------+'
echo '| Processes:                                                                              |'
echo '|  (simulated GPUs of the gpuflow local cloud: no GPU processes are tracked)              |'
echo '+-----------------------------------------------------------------------------------------+'
`;
}

function powerCapFor(name: string): number {
  const n = name.toUpperCase();
  if (n.includes('H100') || n.includes('H200')) return 700;
  if (n.includes('A100')) return 400;
  if (n.includes('4090')) return 450;
  if (n.includes('L4')) return 72;
  return 300;
}
