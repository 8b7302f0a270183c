/**
 * The enrolment responder: what each VPN server tells the other about first-use hardware-ID records, so a tenant
 * enrolled on either server is enrolled on both (review H3). A socat listener on the server's management address
 * that accepts only the peer's address, and a tiny sh script per request (render/scripts/enrol-peer.sh) with a
 * strict line grammar, run as the OpenVPN user (it writes the same store the auth hook writes). Pure text.
 */
import { isIpv4 } from "../lib/ipv4";
import type { EnrolPeers } from "../plan/enrolment";
import type { ServerLayout } from "./layout";
import { openvpnFilePaths } from "./openvpn-server";
import { TENANT_KEY_FN, scriptFile } from "./script-file";
import { OPENVPN_GROUP, OPENVPN_USER } from "./service-user";
import { assertPath } from "./shell";

const RESPONDER_BODY = scriptFile("enrol-peer.sh");
export const SOCAT = "/usr/bin/socat";
/** The responder's systemd unit. */
export const ENROL_UNIT = "librerouter-enrol.service";
/** Concurrent requests the responder serves (each is a socat child plus one sh): bounded, it shares OpenVPN's uid and so its RLIMIT_NPROC. */
export const ENROL_MAX_CHILDREN = 2;

/** `<confDir>/lr-enrol-peer`: outside the OpenVPN directory, so a change to it never restarts OpenVPN. */
export function enrolResponderPath(layout: ServerLayout): string {
  return `${layout.confDir}/lr-enrol-peer`;
}

function assertPeers(peers: EnrolPeers): void {
  if (!isIpv4(peers.selfIp) || !isIpv4(peers.peerIp) || peers.selfIp === peers.peerIp) throw new Error(`enrolment peers of ${peers.server}: management addresses ${peers.selfIp} / ${peers.peerIp} must be two IPv4 addresses`);
  if (!Number.isInteger(peers.port) || peers.port < 1024 || peers.port > 65535) throw new Error(`enrolment port ${peers.port} must be 1024…65535 (the responder runs unprivileged)`);
}

/** The socat address the auth hook dials: the peer's responder, from this server's own management address. */
export function peerAddress(peers: EnrolPeers): string {
  assertPeers(peers);
  return `TCP4:${peers.peerIp}:${peers.port},bind=${peers.selfIp},connect-timeout=2`;
}

/** The responder's listen command (the unit's ExecStart; the lab runs the same line). */
export function responderCommand(peers: EnrolPeers, layout: ServerLayout): string[] {
  assertPeers(peers);
  const script = enrolResponderPath(layout);
  assertPath(script);
  return [SOCAT, "-t", "2", "-T", "2", `TCP4-LISTEN:${peers.port},bind=${peers.selfIp},range=${peers.peerIp}/32,fork,reuseaddr,max-children=${ENROL_MAX_CHILDREN}`, `EXEC:${script}`];
}

/** The per-request script for one server (stores and ccd dirs of `layout`, its role from `peers`). */
export function renderEnrolResponder(stack: string, peers: EnrolPeers, layout: ServerLayout): string {
  assertPeers(peers);
  const p = openvpnFilePaths(layout);
  for (const d of [p.enrolledDir, p.ccdDirs.udp, p.ccdDirs.tcp]) assertPath(d);
  return `#!/bin/sh
# Enrolment responder of ${peers.server} (stack ${stack}) for ${peers.peer} (${peers.peerIp}); rendered, do not edit.
# Runs as ${OPENVPN_USER} under socat, one process per request, no PATH.
set -u
ENROLLED=${p.enrolledDir}
CCD_UDP=${p.ccdDirs.udp}
CCD_TCP=${p.ccdDirs.tcp}
AUTHORITY=${peers.authority ? "yes" : "no"}
${TENANT_KEY_FN}${RESPONDER_BODY}`;
}

/** The systemd unit of the responder: only the peer's address is served; restarts until the management address exists. */
export function renderEnrolUnit(peers: EnrolPeers, layout: ServerLayout): string {
  const p = openvpnFilePaths(layout);
  return `# Rendered by librerouter-hosting, do not edit.
[Unit]
Description=LibreRouter enrolment responder (hardware-ID records for ${peers.peer})
Wants=network-online.target
After=network-online.target
StartLimitIntervalSec=0

[Service]
User=${OPENVPN_USER}
Group=${OPENVPN_GROUP}
ExecStart=${responderCommand(peers, layout).join(" ")}
Restart=always
RestartSec=2
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=${p.enrolledDir}
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
CapabilityBoundingSet=

[Install]
WantedBy=multi-user.target
`;
}
