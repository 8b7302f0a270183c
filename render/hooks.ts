/**
 * OpenVPN server hooks. They run as the OpenVPN user (render/service-user.ts) with no PATH, so every external tool
 * is named by absolute path and everything else is a dash builtin. Pure: no `@pulumi/*` import.
 *
 * Pin contract: `<openvpnDir>/pins/<cn>` (ops, from `tenants.<key>.hardwareId`) wins over
 * `<stateDir>/enrolled/<cn>` (first use). Content is one line: 64 lowercase hex digits (compared with the
 * launcher's `UV_HWID`) or, for an ops pin only, a lowercase MAC `xx:xx:xx:xx:xx:xx` (compared with OpenVPN's
 * `IV_HWADDR`). A common name with
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
import { type EnrolPeers, enrolPeers } from "../plan/enrolment";
import type { Plan, ServerPlan } from "../plan/types";
import { SOCAT, peerAddress } from "./enrol-peer";
import type { ServerLayout } from "./layout";
import { openvpnFilePaths } from "./openvpn-server";
import { OPENVPN_USER } from "./service-user";
import { TENANT_KEY_FN, scriptFile } from "./script-file";

const AUTH_VERIFY_BODY = scriptFile("auth-verify.sh");
const CONNECT_BODY = scriptFile("client-connect.sh");
const DISCONNECT_BODY = scriptFile("client-disconnect.sh");

/**
 * The `auth-user-pass-verify … via-file` hook of `server`: exit 0 accepts the session, anything else rejects it
 * before OpenVPN drops an existing session of the same certificate (a reject in client-connect would drop it first).
 * The certificate is checked first, against its pin (OpenVPN has set `tls_digest_sha256_0` by then).
 * Unpinned tenants follow `unpinnedPolicy`: `refuse` rejects; `enrol` accepts the first launcher ID (`UV_HWID`,
 * never a MAC) once for both servers: a local record decides with no network and no process; without one the
 * hook asks the peer's responder (render/enrol-peer.ts) and copies its record, or, when neither has one, the
 * authority's atomic link decides (its own store, or a `claim` there). The peer unreachable means a refusal.
 * The common-name check in render/scripts/auth-verify.sh is the sh twin of config/schema.ts TENANT_KEY plus the
 * reserved server prefix (no `/` or `.`: no path traversal). `peers` defaults to the plan's roles.
 */
export function renderAuthVerifyHook(plan: Plan, server: ServerPlan, layout: ServerLayout, peers: EnrolPeers = enrolPeers(plan, server)): string {
  const p = openvpnFilePaths(layout);
  return `#!/bin/sh
# auth-user-pass-verify hook of ${server.name} (stack ${plan.stack}): certificate and hardware check; rendered, do not edit.
# Runs as ${OPENVPN_USER} with no PATH. Logs one line per decision to stderr (the OpenVPN log); never the ID itself (OpenVPN logs the peer-info lines on its own: README).
set -u
PINS=${p.pinsDir}
ENROLLED=${p.enrolledDir}
CCD_UDP=${p.ccdDirs.udp}
CCD_TCP=${p.ccdDirs.tcp}
CERTS=${p.certPinsDir}
POLICY=${plan.unpinnedPolicy}
AUTHORITY=${peers.authority ? "yes" : "no"}
PEER=${peers.peer}
PEER_ADDR=${peerAddress(peers)}
SOCAT=${SOCAT}
${TENANT_KEY_FN}${AUTH_VERIFY_BODY}`;
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

const TLS_CRYPT_V2_VERIFY_BODY = scriptFile("tls-crypt-v2-verify.sh");

/**
 * The `tls-crypt-v2-verify` hook: OpenVPN runs it once a client has proved it holds the key in its WKc (after the
 * cookie handshake, before any TLS packet is read: tls_crypt.c:685-691, doc/tls-crypt-v2.txt:145-157). Our USER
 * metadata is `lr1 <cn> <key id>` (render/tls-crypt-v2.ts); it accepts only a cn with a ccd file whose
 * `<tc2PinsDir>/<cn>` holds that key id, so a removed tenant's and a replaced key are refused before TLS.
 */
export function renderTlsCryptV2VerifyHook(stack: string, layout: ServerLayout): string {
  const p = openvpnFilePaths(layout);
  return `#!/bin/sh
# tls-crypt-v2-verify hook (stack ${stack}): tenant key check before TLS; rendered, do not edit.
set -u
PINS=${p.tc2PinsDir}
CCD_UDP=${p.ccdDirs.udp}
CCD_TCP=${p.ccdDirs.tcp}
${TENANT_KEY_FN}${TLS_CRYPT_V2_VERIFY_BODY}`;
}
