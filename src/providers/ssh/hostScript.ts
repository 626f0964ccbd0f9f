/**
 * The bash program the adapter runs on a fleet host over SSH (`bash -s -- <command> <args>`, the
 * program on stdin): nothing is installed on the host beforehand and the host's files are the only
 * state, so any number of workers share a fleet and a worker that dies mid-call leaves no half
 * claim (claims are built in a temporary directory and renamed into place under `flock`).
 *
 * Layout under `$HOME/.gpuflow-fleet`:
 *   lock                     flock(1) for claim/release
 *   leases/<leaseId>/        one allocation: lease.json (what the adapter wrote), gpus ("0,1"),
 *                            port, an unprivileged sshd (host key, config, pid, log), shell (its
 *                            ForceCommand), env, bin/nvidia-smi (sees only the lease's GPUs), home/
 *
 * Each lease gets its own sshd on its own port, with the workload's key only: the worker uses one
 * key for every instance, so two leases on one host could not be told apart by key in a shared
 * authorized_keys. Every process of the lease carries GPUFLOW_LEASE=<id> (sshd SetEnv), which is how
 * release finds and kills them.
 *
 * Output lines are tab-separated records; the adapter parses them in ./hostState.ts.
 */
export const FLEET_ROOT = '$HOME/.gpuflow-fleet';

/** Exit codes of `claim` the adapter maps to capacity errors. */
export const EXIT_NO_FREE_GPUS = 75;
export const EXIT_NO_FREE_PORT = 76;

/** Bash `${` is written `%{` here (a template literal would read it). */
export const HOST_SCRIPT = String.raw`
set -u
ROOT="$HOME/.gpuflow-fleet"
LEASES="$ROOT/leases"
mkdir -p "$LEASES"
cmd="$1"; shift

sshd_bin() {
  command -v sshd 2>/dev/null || { [ -x /usr/sbin/sshd ] && echo /usr/sbin/sshd; } || true
}

gpu_facts() {
  if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader,nounits 2>/dev/null | while IFS= read -r l; do printf 'nvidia\t%s\n' "$l"; done
  fi
  if command -v rocm-smi >/dev/null 2>&1; then
    printf 'rocm\t%s\n' "$(rocm-smi --showproductname --showmeminfo vram --json 2>/dev/null | tr -d '\n')"
  fi
}

alive() { # pid file → 0 if that process runs (a zombie does not: PID 1 of a container may never reap it)
  local p
  [ -f "$1" ] && p="$(cat "$1")" && kill -0 "$p" 2>/dev/null && [ "$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]
}

print_lease() { # lease dir
  local d="$1" id a=0
  id="$(basename "$d")"
  alive "$d/sshd.pid" && a=1
  printf 'lease\t%s\t%s\t%s\t%s\t%s\n' "$id" "$(cat "$d/gpus")" "$(cat "$d/port" 2>/dev/null || echo 0)" "$a" "$(base64 -w0 < "$d/lease.json")"
}

state() {
  printf 'arch\t%s\n' "$(uname -m)"
  printf 'vcpu\t%s\n' "$(nproc 2>/dev/null || echo 0)"
  printf 'memkib\t%s\n' "$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null || echo 0)"
  printf 'sshd\t%s\n' "$(sshd_bin)"
  gpu_facts
  for d in "$LEASES"/*/; do
    d="%{d%/}"
    [ -f "$d/lease.json" ] && print_lease "$d"
  done
  return 0
}

port_taken() { # port → 0 if a lease holds it or something listens on it
  local p="$1" f
  for f in "$LEASES"/*/port; do [ -f "$f" ] && [ "$(cat "$f")" = "$p" ] && return 0; done
  (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 0
  return 1
}

start_sshd() { # lease dir → 0 once its sshd runs
  local d="$1" bin i
  bin="$(sshd_bin)"
  [ -n "$bin" ] || { echo "no sshd on this host (install openssh-server)" >&2; return 1; }
  rm -f "$d/sshd.pid"
  # 9>&-: the daemon must not inherit the lock (it would hold it for its whole life).
  env GPUFLOW_LEASE="$(basename "$d")" "$bin" -f "$d/sshd_config" -E "$d/sshd.log" </dev/null >/dev/null 2>&1 9>&- || return 1
  # Running is not enough: the lease is handed out once its port answers.
  local addr port
  addr="$(awk '/^ListenAddress/ {print $2}' "$d/sshd_config")"; [ "$addr" = 0.0.0.0 ] && addr=127.0.0.1
  port="$(cat "$d/port")"
  for i in $(seq 1 100); do
    alive "$d/sshd.pid" && (exec 3<>"/dev/tcp/$addr/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# Every process whose environment has GPUFLOW_LEASE=<id>: TERM, then KILL after a grace (5 s).
kill_lease_procs() {
  local id="$1" pass pids pid sig
  for pass in 1 2 3 4 5 6 7 8 9 10 11; do
    # One grep over every environ file (NUL-separated entries).
    pids="$(grep -lxzF "GPUFLOW_LEASE=$id" /proc/[0-9]*/environ 2>/dev/null | sed 's#^/proc/##; s#/environ$##')"
    pids="$(printf '%s\n' $pids | grep -vx "$$")"
    [ -z "$pids" ] && return 0
    sig=TERM; [ "$pass" -ge 11 ] && sig=KILL
    for pid in $pids; do kill -"$sig" "$pid" 2>/dev/null; done
    sleep 0.5
  done
  return 0
}

claim() { # leaseId count candidates(csv) portFrom portTo listen lease.json(b64) publicKey(b64) env(b64)
  local id="$1" count="$2" cand="$3" pfrom="$4" pto="$5" listen="$6" lj="$7" pk="$8" envb="%{9:-}"
  local d="$LEASES/$id" used="" g chosen="" n=0 p port="" tmp
  if [ -f "$d/lease.json" ] && [ -f "$d/sshd_config" ]; then
    alive "$d/sshd.pid" || start_sshd "$d" || { echo "the lease's sshd does not start: $(tail -n 3 "$d/sshd.log" 2>/dev/null)" >&2; exit 1; }
    print_lease "$d"; exit 0
  fi
  # Left by a claim that died half-way (the lock makes this safe).
  rm -rf "$LEASES"/.tmp-* "$d" 2>/dev/null
  for f in "$LEASES"/*/gpus; do [ -f "$f" ] && used="$used,$(cat "$f")"; done
  used="$used,"
  for g in %{cand//,/ }; do
    [ "$n" -ge "$count" ] && break
    case "$used" in *",$g,"*) continue ;; esac
    chosen="%{chosen:+$chosen,}$g"; n=$((n + 1))
  done
  if [ "$n" -lt "$count" ]; then echo "only $n of $count GPUs free" >&2; exit ${EXIT_NO_FREE_GPUS}; fi
  tmp="$LEASES/.tmp-$id"
  mkdir -p "$tmp/home" "$tmp/bin"
  printf '%s' "$lj" | base64 -d > "$tmp/lease.json"
  printf '%s' "$chosen" > "$tmp/gpus"
  printf '%s\n' "$(printf '%s' "$pk" | base64 -d)" > "$tmp/authorized_keys"
  chmod 600 "$tmp/authorized_keys"
  printf '%s' "$envb" | base64 -d > "$tmp/env"
  ssh-keygen -q -t ed25519 -N '' -C "gpuflow-lease-$id" -f "$tmp/host_key" >/dev/null || { rm -rf "$tmp"; exit 1; }
  real="$(command -v nvidia-smi 2>/dev/null || true)"
  if [ -n "$real" ]; then
    cat > "$tmp/bin/nvidia-smi" <<EOF
#!/bin/bash
# nvidia-smi of GPU lease $id: only its GPUs, unless -i is given.
for a in "\$@"; do case "\$a" in -i|--id|--id=*) exec "$real" "\$@" ;; esac; done
exec "$real" -i "$chosen" "\$@"
EOF
    chmod 755 "$tmp/bin/nvidia-smi"
  fi
  printf 'export PATH=%q:"$PATH"\n' "$d/bin" > "$tmp/home/.bash_profile"
  cat > "$tmp/shell" <<EOF
#!/bin/bash
# ForceCommand of GPU lease $id: every session runs inside the lease.
[ -f $(printf %q "$d/lease.json") ] || { echo "gpuflow: GPU lease $id was released" >&2; exit 1; }
export GPUFLOW_LEASE=$id GPUFLOW_LEASE_GPUS=$chosen
export CUDA_VISIBLE_DEVICES=$chosen NVIDIA_VISIBLE_DEVICES=$chosen HIP_VISIBLE_DEVICES=$chosen ROCR_VISIBLE_DEVICES=$chosen
. $(printf %q "$d/env")
export HOME=$(printf %q "$d/home")
export PATH=$(printf %q "$d/bin"):"\$PATH"
cd "\$HOME" || exit 1
if [ -n "\%{SSH_ORIGINAL_COMMAND:-}" ]; then exec bash -c "\$SSH_ORIGINAL_COMMAND"; fi
exec bash -l
EOF
  chmod 755 "$tmp/shell"
  mv "$tmp" "$d"
  for port in $(seq "$pfrom" "$pto"); do
    port_taken "$port" && continue
    printf '%s' "$port" > "$d/port"
    cat > "$d/sshd_config" <<EOF
# sshd of GPU lease $id (gpuflow SSH fleet)
Port $port
ListenAddress $listen
HostKey $d/host_key
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
AllowUsers $(id -un)
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitUserEnvironment no
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding yes
ClientAliveInterval 15
ClientAliveCountMax 4
MaxStartups 50:30:200
SetEnv HOME=$d/home GPUFLOW_LEASE=$id
ForceCommand $d/shell
EOF
    if start_sshd "$d"; then print_lease "$d"; exit 0; fi
  done
  echo "no free port in $pfrom-$pto for the lease's sshd: $(tail -n 3 "$d/sshd.log" 2>/dev/null)" >&2
  rm -rf "$d"
  exit ${EXIT_NO_FREE_PORT}
}

revive() { # leaseId: restarts the lease's sshd if it died (host reboot)
  local d="$LEASES/$1"
  [ -f "$d/lease.json" ] && [ -f "$d/sshd_config" ] || { echo "no lease $1" >&2; exit 3; }
  alive "$d/sshd.pid" || start_sshd "$d" || { echo "the lease's sshd does not start: $(tail -n 3 "$d/sshd.log" 2>/dev/null)" >&2; exit 1; }
  print_lease "$d"
}

release() { # leaseId
  local id="$1" d="$LEASES/$1"
  if [ ! -d "$d" ]; then echo absent; return 0; fi
  # Sessions first refuse (the shell checks lease.json), then every process goes, then the files.
  mv "$d/lease.json" "$d/lease.released" 2>/dev/null
  alive "$d/sshd.pid" && kill -TERM "$(cat "$d/sshd.pid")" 2>/dev/null
  kill_lease_procs "$id"
  rm -rf "$d"
  echo released
}

case "$cmd" in
  state) state ;;
  claim) exec 9>"$ROOT/lock"; flock -w 60 9 || { echo "lock busy" >&2; exit 1; }; claim "$@" ;;
  revive) exec 9>"$ROOT/lock"; flock -w 60 9 || { echo "lock busy" >&2; exit 1; }; revive "$@" ;;
  release) exec 9>"$ROOT/lock"; flock -w 60 9 || { echo "lock busy" >&2; exit 1; }; release "$@" ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
`.replaceAll('%{', '${');
