/**
 * The node side of EC2's spot interruption notice: a bash script that polls instance metadata
 * (IMDSv2: `PUT /latest/api/token`, then `GET /latest/meta-data/spot/instance-action` every 5 s,
 * as AWS recommends; 404 until AWS decides, then `{"action":"terminate","time":"…"}`) and, when
 * the notice comes, sends the job's process group SIGTERM and SIGKILL only shortly before the
 * announced time: the job gets the two minutes AWS gives, less a margin, as its checkpoint grace
 * (SkyPilot caps its hook at 110 s of the 120).
 *
 * It is a script generator and a tested component; starting it at bootstrap needs the workflow to
 * count a job ended by the notice as an interruption (see README.md, Spot).
 */

/** Seconds before the announced termination at which the job is killed if it is still running. */
export const SPOT_NOTICE_KILL_MARGIN_S = 10;
/** AWS: "we recommend that you check for these interruption notices every 5 seconds". */
export const SPOT_NOTICE_POLL_S = 5;
export const IMDS_BASE = 'http://169.254.169.254';

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function spotNoticeWatcherScript(a: { jobDir: string; imdsBase?: string; pollSeconds?: number; killMarginSeconds?: number }): string {
  const base = (a.imdsBase ?? IMDS_BASE).replace(/\/+$/, '');
  const poll = a.pollSeconds ?? SPOT_NOTICE_POLL_S;
  const margin = a.killMarginSeconds ?? SPOT_NOTICE_KILL_MARGIN_S;
  return `#!/usr/bin/env bash
# gpuflow: EC2 spot interruption notice watcher. Polls IMDSv2 and stops the job before AWS takes the instance.
set -u
cd ${quote(a.jobDir)} || exit 1
IMDS=${quote(base)}
log() { printf '%s spot-notice: %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >> spot-notice.log; }
token() { curl -fsS -m 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' "$IMDS/latest/api/token"; }
tok=""
while :; do
  [ -n "$tok" ] || tok=$(token) || { tok=""; sleep ${poll}; continue; }
  code=$(curl -sS -m 2 -o notice.tmp -w '%{http_code}' -H "X-aws-ec2-metadata-token: $tok" "$IMDS/latest/meta-data/spot/instance-action") || code=000
  if [ "$code" = 200 ]; then break; fi
  [ "$code" = 401 ] && tok=""
  sleep ${poll}
done
notice=$(cat notice.tmp)
mv -f notice.tmp spot-notice
log "notice: $notice"
when=$(printf '%s' "$notice" | sed -n 's/.*"time" *: *"\\([^"]*\\)".*/\\1/p')
deadline=$(date -u -d "$when" +%s 2>/dev/null || echo $(( $(date +%s) + 120 )))
[ -f pid ] || { log "no job is running"; exit 0; }
p=$(cat pid)
log "SIGTERM to the job (process group $p); it has until $((deadline - ${margin})) ($when less ${margin}s)"
kill -TERM -- -"$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null
while [ "$(date +%s)" -lt $((deadline - ${margin})) ]; do
  kill -0 -- -"$p" 2>/dev/null || kill -0 "$p" 2>/dev/null || { log "the job ended within its grace"; exit 0; }
  sleep 1
done
log "grace over: SIGKILL"
kill -KILL -- -"$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null
exit 0
`;
}
