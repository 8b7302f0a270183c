/**
 * OpenVPN server hooks. They run as `nobody` with no PATH (pitfall P12), so every external tool is named by
 * absolute path and everything else is a dash builtin. Pure: no `@pulumi/*` import.
 *
 * Pin contract: `<openvpnDir>/pins/<cn>` (ops, from `tenants.<key>.hardwareId`) wins over
 * `<stateDir>/enrolled/<cn>` (first use). Content is one line: 64 lowercase hex digits (compared with the
 * launcher's `UV_HWID`) or a MAC `xx:xx:xx:xx:xx:xx` (compared with OpenVPN's `IV_HWADDR`). A common name with
 * no ccd file in either instance is refused before it could enrol, so the tenant delete script must remove the
 * ccd files, `pins/<cn>` and `enrolled/<cn>` (a reused key then starts unpinned).
 */
import type { Plan } from "../plan/types";
import type { ServerLayout } from "./layout";
import { openvpnFilePaths } from "./openvpn-server";

/** Absolute paths of the few non-builtin tools (coreutils on Debian keeps them in /bin). */
const LN = "/bin/ln";
const RM = "/bin/rm";

/**
 * POSIX sh test equivalent to config/schema.ts TENANT_KEY plus the reserved server prefix; sets `ok=0` when
 * `$cn` is not a tenant key. Rejecting `/`, `.` and anything else outside [a-z0-9-] stops path traversal.
 */
const CN_CHECK = [
  "ok=1",
  'case "$cn" in',
  "  ''|*[!a-z0-9-]*|[!a-z]*|*-|lr-vpn*) ok=0 ;;",
  "  *) ;;",
  "esac",
  'if [ "${#cn}" -gt 32 ]; then ok=0; fi',
];

/**
 * The `auth-user-pass-verify … via-file` hook: exit 0 accepts the session, anything else rejects it before
 * OpenVPN drops an existing session of the same certificate (pitfall P1). Unpinned tenants follow
 * `vpn.unpinnedPolicy`: `enrol` stores the first ID seen (UV_HWID, else IV_HWADDR) atomically, `refuse` rejects.
 */
export function renderAuthVerifyHook(plan: Plan, layout: ServerLayout): string {
  const p = openvpnFilePaths(layout);
  const policy = plan.config.vpn.unpinnedPolicy;
  return `#!/bin/sh
# auth-user-pass-verify hook (stack ${plan.stack}): tenant hardware check; rendered, do not edit.
# Runs as nobody with no PATH. Logs one line per decision to stderr (the OpenVPN log); never the ID itself.
set -u
PINS=${p.pinsDir}
ENROLLED=${p.enrolledDir}
CCD_UDP=${p.ccdDirs.udp}
CCD_TCP=${p.ccdDirs.tcp}
POLICY=${policy}

cn=\${common_name:-}
log() { printf 'lr-auth: cn=%s %s\\n' "$1" "$2" >&2; }
deny() { log "$1" "REJECT: $2"; exit 1; }

${CN_CHECK.join("\n")}
if [ "$ok" = 0 ]; then deny invalid "common name is not a tenant key"; fi
# A removed tenant (no ccd file) is refused later by ccd-exclusive; refuse it here so it can never enrol.
if [ ! -f "$CCD_UDP/$cn" ] && [ ! -f "$CCD_TCP/$cn" ]; then deny "$cn" "no ccd file: not a tenant"; fi

# What the client claims (push-peer-info): the launcher's ID and the MAC of its default-route interface.
hwid=$(printf '%s' "\${UV_HWID:-}" | /usr/bin/tr 'A-F' 'a-f')
mac=$(printf '%s' "\${IV_HWADDR:-}" | /usr/bin/tr 'A-F' 'a-f')
case "$hwid" in *[!0-9a-f]*) hwid= ;; *) ;; esac
if [ "\${#hwid}" -ne 64 ]; then hwid=; fi
case "$mac" in [0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]) ;; *) mac= ;; esac

# check <pin> <source>: accept when the claim of the pin's kind matches it.
check() {
  case "$1" in
    ??:??:??:??:??:??) claim=$mac; kind=mac ;;
    *) claim=$hwid; kind=hwid ;;
  esac
  if [ -n "$claim" ] && [ "$claim" = "$1" ]; then
    log "$cn" "ACCEPT: $kind matches $2 pin"
    exit 0
  fi
  deny "$cn" "$kind does not match $2 pin"
}

read_pin() {
  pin=
  if [ -f "$1" ]; then
    IFS= read -r pin < "$1" || true
    pin=$(printf '%s' "$pin" | /usr/bin/tr 'A-F' 'a-f')
  fi
}

read_pin "$PINS/$cn"
if [ -n "$pin" ]; then check "$pin" ops; fi
read_pin "$ENROLLED/$cn"
if [ -n "$pin" ]; then check "$pin" enrolled; fi

if [ "$POLICY" != enrol ]; then deny "$cn" "no pin and policy is $POLICY"; fi
new=\${hwid:-$mac}
if [ -z "$new" ]; then deny "$cn" "no pin and no UV_HWID or IV_HWADDR to enrol"; fi
# Atomic first-wins: write a private temp file, then hard-link it; ln fails if another session enrolled first.
tmp="$ENROLLED/.$cn.$$"
if ! printf '%s\\n' "$new" > "$tmp"; then deny "$cn" "cannot write $ENROLLED"; fi
if ${LN} "$tmp" "$ENROLLED/$cn" 2>/dev/null; then
  ${RM} -f "$tmp"
  log "$cn" "ACCEPT: enrolled on first use"
  exit 0
fi
${RM} -f "$tmp"
read_pin "$ENROLLED/$cn"
if [ -n "$pin" ]; then check "$pin" enrolled; fi
deny "$cn" "enrolment failed"
`;
}

/** `client-connect` hook: logs the session (routing is static, pitfall P5); never rejects. */
export function renderConnectHook(plan: Plan): string {
  return `#!/bin/sh
# client-connect hook (stack ${plan.stack}): logging only; rendered, do not edit.
# The hardware check is in auth-user-pass-verify and routing is static, so this never fails a session.
printf 'lr-connect: cn=%s tunnel=%s from=%s dev=%s\\n' "\${common_name:-?}" "\${ifconfig_pool_remote_ip:-?}" "\${trusted_ip:-?}" "\${dev:-?}" >&2
exit 0
`;
}

/** `client-disconnect` hook: logs only; it also runs for sessions that were rejected (pitfall P2), so it changes nothing. */
export function renderDisconnectHook(plan: Plan): string {
  return `#!/bin/sh
# client-disconnect hook (stack ${plan.stack}): logging only; rendered, do not edit.
# Also called for rejected sessions (duration 0): it must not undo anything the real session relies on.
printf 'lr-disconnect: cn=%s tunnel=%s from=%s duration=%ss rx=%s tx=%s\\n' "\${common_name:-?}" "\${ifconfig_pool_remote_ip:-?}" "\${trusted_ip:-?}" "\${time_duration:-0}" "\${bytes_received:-0}" "\${bytes_sent:-0}" >&2
exit 0
`;
}
