/**
 * OpenVPN server hooks. They run as `nobody` with no PATH, so every external tool is named by absolute path
 * and everything else is a dash builtin. Pure: no `@pulumi/*` import.
 *
 * Pin contract: `<openvpnDir>/pins/<cn>` (ops, from `tenants.<key>.hardwareId`) wins over
 * `<stateDir>/enrolled/<cn>` (first use). Content is one line: 64 lowercase hex digits (compared with the
 * launcher's `UV_HWID`) or a MAC `xx:xx:xx:xx:xx:xx` (compared with OpenVPN's `IV_HWADDR`). A common name with
 * no ccd file in either instance is refused before it could enrol, so the tenant delete script must remove the
 * ccd files, `pins/<cn>` and `enrolled/<cn>` (a reused key then starts unpinned).
 *
 * Certificate contract: `<openvpnDir>/cert-pins/<cn>` (the tenant apply script, from the certificate the program
 * issued) holds the SHA-256 fingerprint of the tenant's one valid client certificate, as OpenVPN sets
 * `tls_digest_sha256_0` (lowercase hex pairs joined by `:`). Any other certificate for that common name (an earlier
 * one after a re-issue, a reused key's old holder) is refused; an empty pin refuses all; nothing expires. The apply
 * script writes the pin before the ccd files, so only a tenant last applied by a release without pins has ccd files
 * and no pin: its certificate is not checked (logged) until its apply runs, so an upgrade locks no one out.
 */
import type { Plan } from "../plan/types";
import type { ServerLayout } from "./layout";
import { openvpnFilePaths } from "./openvpn-server";
import { scriptFile } from "./script-file";

const AUTH_VERIFY_BODY = scriptFile("auth-verify.sh");
const CONNECT_BODY = scriptFile("client-connect.sh");
const DISCONNECT_BODY = scriptFile("client-disconnect.sh");

/**
 * The `auth-user-pass-verify … via-file` hook: exit 0 accepts the session, anything else rejects it before
 * OpenVPN drops an existing session of the same certificate (a reject in client-connect would drop it first).
 * The certificate is checked first, against its pin (OpenVPN has set `tls_digest_sha256_0` by then, so this costs
 * no process beyond the hook itself, unlike a separate `tls-verify` hook run once per chain level).
 * Unpinned tenants follow `unpinnedPolicy`: `enrol` stores the first ID seen (UV_HWID, else IV_HWADDR)
 * atomically, `refuse` rejects. The common-name check in render/scripts/auth-verify.sh is the sh twin of
 * config/schema.ts TENANT_KEY plus the reserved server prefix (no `/` or `.`: no path traversal).
 */
export function renderAuthVerifyHook(stack: string, unpinnedPolicy: Plan["unpinnedPolicy"], layout: ServerLayout): string {
  const p = openvpnFilePaths(layout);
  return `#!/bin/sh
# auth-user-pass-verify hook (stack ${stack}): tenant hardware check; rendered, do not edit.
# Runs as nobody with no PATH. Logs one line per decision to stderr (the OpenVPN log); never the ID itself.
set -u
PINS=${p.pinsDir}
ENROLLED=${p.enrolledDir}
CCD_UDP=${p.ccdDirs.udp}
CCD_TCP=${p.ccdDirs.tcp}
CERTS=${p.certPinsDir}
POLICY=${unpinnedPolicy}
${AUTH_VERIFY_BODY}`;
}

/** `client-connect` hook: logs the session (routing is static: nothing to set per session); never rejects. */
export function renderConnectHook(stack: string): string {
  return `#!/bin/sh
# client-connect hook (stack ${stack}): logging only; rendered, do not edit.
${CONNECT_BODY}`;
}

/** `client-disconnect` hook: logs only; OpenVPN also runs it for rejected sessions, so it changes nothing. */
export function renderDisconnectHook(stack: string): string {
  return `#!/bin/sh
# client-disconnect hook (stack ${stack}): logging only; rendered, do not edit.
${DISCONNECT_BODY}`;
}
