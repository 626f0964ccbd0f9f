/**
 * The node-side watchdog (issue 5): the node holds a lease the workflow renews; when renewals stop
 * for longer than the lease (the control plane is gone), the node stops its job and ends itself, so
 * an orphaned GPU instance does not bill forever. These are the shell texts put on the node; the
 * activities in watchdog.ts run them over SSH.
 *
 * Times are read from the node's own monotonic clock (/proc/uptime), in whole seconds, both when
 * the lease is written and when it is checked: worker/node clock skew and NTP steps do not matter.
 * Files, all in the job directory: `lease` (expiry on that clock), `watchdog.conf` (what to do,
 * decided at install), `watchdog.sh`, `watchdog.started/` (the start-once guard), `watchdog.pid`,
 * `watchdog.log`, and `watchdog.fired` once it has acted.
 */
import { INSTANCE_ENV } from '../providers/local/daemon/procs.js';
import { jobDir, stopCommand } from './node.js';

/** The environment variable a provider's image sets to a command that terminates the instance from inside. */
export const SELF_TERMINATE_ENV = 'GPUFLOW_SELF_TERMINATE';

/** The lease in whole seconds, never shorter than asked. */
export function leaseSeconds(leaseMs: number): number {
  return Math.max(1, Math.ceil(leaseMs / 1000));
}

/** How often the watchdog reads the lease: a quarter of it, at most 5 s, at least 1 s. */
export function checkIntervalSeconds(lease: number): number {
  return Math.max(1, Math.min(5, Math.floor(lease / 4)));
}

const NOW_FN = `now_s() { local up; if read -r up _ < /proc/uptime 2>/dev/null; then echo "\${up%%.*}"; else date +%s; fi; }`;
const ALIVE_FN = `alive() { [ -r "/proc/$1/stat" ] || return 1; read -r _ _ st _ < "/proc/$1/stat" || return 0; [ "$st" != Z ]; }`;

/** Writes the lease atomically (tmp + mv): the watchdog never reads a half-written expiry. */
function writeLease(seconds: number): string {
  return `echo $(( $(now_s) + ${seconds} )) > "lease.tmp.$$" && mv -f "lease.tmp.$$" lease`;
}

/**
 * The watchdog itself, started once per job directory by installCommand. Its settings are baked in
 * at its first start; what to do at expiry comes from watchdog.conf (written at install).
 */
export function watchdogScript(a: { workloadId: string; leaseMs: number; stopGraceMs: number }): string {
  const lease = leaseSeconds(a.leaseMs);
  const check = checkIntervalSeconds(lease);
  const grace = Math.max(1, Math.ceil(a.stopGraceMs / 1000));
  return `#!/usr/bin/env bash
# gpuflow watchdog of workload ${a.workloadId.replace(/[^A-Za-z0-9._:-]/g, '_')}: stops the job and ends this
# node when the lease file is not renewed in time (the control plane is gone).
set -u
cd "$(dirname "$0")" || exit 1
${NOW_FN}
log() { printf '%s watchdog[%s]: %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$$" "$*" >> watchdog.log; }
stop_job() (
${stopCommand(a.workloadId, grace)}
)
WATCHDOG_ACTION=stop-job-only
WATCHDOG_MAY_SHUT_DOWN=no
# Inherited from the install's session: the provider's command for terminating from inside.
WATCHDOG_SELF_TERMINATE="\${${SELF_TERMINATE_ENV}:-}"
. ./watchdog.conf || log "cannot read watchdog.conf: the job will only be stopped"

self_terminate() {
  local attempt
  for attempt in 1 2 3 4 5; do
    log "asking the provider to terminate this instance (attempt $attempt): $WATCHDOG_SELF_TERMINATE"
    if bash -c "$WATCHDOG_SELF_TERMINATE \\"\\$@\\"" gpuflow-watchdog "gpuflow watchdog: lease expired" >> watchdog.log 2>&1; then
      log "the provider accepted; waiting to be terminated"
      sleep 60
      log "still running 60s after the provider accepted"
    else
      log "the self-terminate command failed"
      sleep $(( attempt * 2 ))
    fi
  done
  return 1
}

shut_down() {
  # Never on the local cloud: its instances are processes of a shared host, possibly run as root.
  if [ -n "\${${INSTANCE_ENV}:-}" ]; then log "refusing to power off: this is a local cloud instance on a shared host"; return 1; fi
  log "powering off this host"
  if [ "$(id -u)" = 0 ]; then shutdown -h now || poweroff; else sudo -n shutdown -h now || sudo -n poweroff; fi >> watchdog.log 2>&1
}

expiry=
if read -r expiry < lease 2>/dev/null && [[ "$expiry" =~ ^[0-9]+$ ]]; then :; else expiry=$(( $(now_s) + ${lease} )); fi
log "armed: lease ${lease}s, checked every ${check}s, at expiry: stop the job (${grace}s grace), then $WATCHDOG_ACTION"
while :; do
  # A lease file that cannot be read keeps the last expiry read: the watchdog still fires.
  if read -r e < lease 2>/dev/null && [[ "$e" =~ ^[0-9]+$ ]]; then expiry=$e; fi
  now=$(now_s)
  [ "$now" -gt "$expiry" ] && break
  sleep ${check}
done
log "lease expired $(( now - expiry ))s ago: nobody renewed it (the control plane is gone)"
echo "$WATCHDOG_ACTION $(date -u +%Y-%m-%dT%H:%M:%SZ)" > watchdog.fired
log "stopping the job: SIGTERM, then SIGKILL after ${grace}s"
stop_job
log "job stopped"
case "$WATCHDOG_ACTION" in
  provider-self-terminate)
    self_terminate && exit 0
    if [ "$WATCHDOG_MAY_SHUT_DOWN" = yes ]; then shut_down; fi ;;
  shutdown) shut_down ;;
  *) log "stop-job-only: no provider self-terminate command and no privilege to power off; the instance stays up until gpuflow or its provider terminates it" ;;
esac
exit 0
`;
}

/**
 * Installs (or re-attaches to) the watchdog; the script comes on stdin. Prints one line:
 * `STARTED <action>`, `RUNNING <action>` (an earlier install's watchdog is alive), `RESTARTED <action>`
 * (it had died without firing, e.g. a reboot) or `FIRED <action> <time>` (it already acted).
 * `mkdir watchdog.started` is the start-once guard, as `mkdir started` is the job's.
 */
export function installCommand(a: { workloadId: string; leaseMs: number; privileged: boolean }): string {
  const d = jobDir(a.workloadId);
  return [
    'set -e',
    NOW_FN,
    ALIVE_FN,
    `mkdir -p "${d}"`,
    `cd "${d}"`,
    'umask 077',
    'cat > "watchdog.sh.tmp.$$"',
    'chmod 700 "watchdog.sh.tmp.$$"',
    'mv -f "watchdog.sh.tmp.$$" watchdog.sh',
    writeLease(leaseSeconds(a.leaseMs)),
    // The decision is the same for every install on this node, so rewriting it is harmless.
    `if [ -n "\${${SELF_TERMINATE_ENV}:-}" ] && command -v -- "\${${SELF_TERMINATE_ENV}%% *}" > /dev/null 2>&1; then action=provider-self-terminate`,
    // A local cloud instance is never privileged, whatever it claims: it is a shared host.
    `elif ${a.privileged ? 'true' : 'false'} && [ -z "\${${INSTANCE_ENV}:-}" ]; then action=shutdown`,
    'else action=stop-job-only; fi',
    `may_shut_down=no; ${a.privileged ? `[ -z "\${${INSTANCE_ENV}:-}" ] && may_shut_down=yes` : 'true'}`,
    `printf 'WATCHDOG_ACTION=%s\\nWATCHDOG_MAY_SHUT_DOWN=%s\\n' "$action" "$may_shut_down" > "watchdog.conf.tmp.$$"`,
    'mv -f "watchdog.conf.tmp.$$" watchdog.conf',
    'start() { setsid nohup bash "$PWD/watchdog.sh" >> watchdog.log 2>&1 < /dev/null & echo $! > "watchdog.pid.tmp.$$"; mv -f "watchdog.pid.tmp.$$" watchdog.pid; }',
    'if mkdir watchdog.started 2>/dev/null; then start; echo "STARTED $action"',
    'elif [ -f watchdog.fired ]; then echo "FIRED $(cat watchdog.fired)"',
    // No pid yet: another install won the guard a moment ago and is starting it.
    'elif [ ! -f watchdog.pid ] || alive "$(cat watchdog.pid)"; then echo "RUNNING $action"',
    // Dead without firing: one restart per dead pid (mkdir again is the guard).
    'elif mkdir "watchdog.started/restart-$(cat watchdog.pid)" 2>/dev/null; then start; echo "RESTARTED $action"',
    'else echo "RUNNING $action"; fi',
  ].join('\n');
}

/**
 * Pushes the lease's expiry to now + lease on the node's clock. Prints `RENEWED`, `MISSING` (no
 * watchdog was installed here), `NOT-RUNNING` (installed but its process is gone) or
 * `FIRED <action> <time>` (it already acted: renewing is too late).
 */
export function renewCommand(a: { workloadId: string; leaseMs: number }): string {
  const d = jobDir(a.workloadId);
  return [
    NOW_FN,
    ALIVE_FN,
    `cd "${d}" 2>/dev/null && [ -d watchdog.started ] || { echo MISSING; exit 0; }`,
    `${writeLease(leaseSeconds(a.leaseMs))} || exit 1`,
    'if [ -f watchdog.fired ]; then echo "FIRED $(cat watchdog.fired)"',
    'elif [ -f watchdog.pid ] && alive "$(cat watchdog.pid)"; then echo RENEWED',
    'else echo NOT-RUNNING; fi',
  ].join('\n');
}

/** The watchdog's log (for tests and diagnostics). */
export function watchdogLogCommand(workloadId: string): string {
  return `cat "${jobDir(workloadId)}/watchdog.log" 2>/dev/null || true`;
}
