/**
 * OpenVPN server instance configs (one per server × proto) and the one map of where every OpenVPN file
 * lives on a VPN server, so the setup script, the tenant scripts and the lab agree. Pure: no `@pulumi/*`.
 */
import type { InstancePlan, Proto, ServerPlan } from "../plan/types";
import type { ServerLayout } from "./layout";
import { OPENVPN_GROUP, OPENVPN_USER } from "./service-user";

/** Every OpenVPN-related path on one VPN server, derived from its layout. */
export interface OpenVpnFilePaths {
  /** `<openvpnDir>`: the instance configs and everything below live here (root-owned, readable by nobody). */
  readonly dir: string;
  /** `<proto>.conf`: Debian's `openvpn-server@<proto>` unit reads `/etc/openvpn/server/<proto>.conf`. */
  readonly configs: Readonly<Record<Proto, string>>;
  /** Per-instance ccd dirs; a file per tenant key in BOTH (the tunnel IP differs). Must be readable by nobody (OpenVPN reads them after the privilege drop). */
  readonly ccdDirs: Readonly<Record<Proto, string>>;
  /** `ca.crt`, `server.crt`, `server.key` and `tls-crypt-v2-server.key` (0600 root: read before the privilege drop). */
  readonly pkiDir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly tlsCryptV2Key: string;
  /** The four hooks, 0750 root:nogroup (render/server-files.ts, server-setup.ts): nobody executes them. */
  readonly hooksDir: string;
  readonly authVerifyHook: string;
  readonly connectHook: string;
  readonly disconnectHook: string;
  /** `tls-crypt-v2-verify`: refuses a removed tenant's or a superseded key before any TLS (render/scripts/tls-crypt-v2-verify.sh). */
  readonly tlsCryptV2VerifyHook: string;
  /** Ops pins: `<pinsDir>/<tenant key>`, content = the 64-hex ID or a MAC, one line; written by the tenant apply script. */
  readonly pinsDir: string;
  /** Certificate pins: `<certPinsDir>/<tenant key>`, content = the SHA-256 fingerprint of the tenant's current client certificate as OpenVPN prints it (`tls_digest_sha256_0`); written by the tenant apply script. */
  readonly certPinsDir: string;
  /** tls-crypt-v2 pins: `<tc2PinsDir>/<tenant key>`, content = the key id of the tenant's current client key (render/tls-crypt-v2.ts clientKeyId); written by the tenant apply script. */
  readonly tc2PinsDir: string;
  /** First-use enrolments: `<enrolledDir>/<tenant key>`, written by the auth hook as nobody (dir owned nobody:nogroup, 0700). */
  readonly enrolledDir: string;
  /** Management sockets (`kill <cn>` on tenant removal); root-only, created before the privilege drop. */
  readonly managementSockets: Readonly<Record<Proto, string>>;
  readonly statusFiles: Readonly<Record<Proto, string>>;
}

/** Paths of every OpenVPN file on a VPN server with this layout. */
export function openvpnFilePaths(layout: ServerLayout): OpenVpnFilePaths {
  const d = layout.openvpnDir;
  const byProto = (f: (p: Proto) => string): Record<Proto, string> => ({ udp: f("udp"), tcp: f("tcp") });
  return {
    dir: d,
    configs: byProto((p) => `${d}/${p}.conf`),
    ccdDirs: byProto((p) => `${d}/ccd-${p}`),
    pkiDir: `${d}/pki`,
    caCert: `${d}/pki/ca.crt`,
    serverCert: `${d}/pki/server.crt`,
    serverKey: `${d}/pki/server.key`,
    tlsCryptV2Key: `${d}/pki/tls-crypt-v2-server.key`,
    hooksDir: `${d}/hooks`,
    authVerifyHook: `${d}/hooks/auth-verify.sh`,
    connectHook: `${d}/hooks/client-connect.sh`,
    disconnectHook: `${d}/hooks/client-disconnect.sh`,
    tlsCryptV2VerifyHook: `${d}/hooks/tls-crypt-v2-verify.sh`,
    pinsDir: `${d}/pins`,
    certPinsDir: `${d}/cert-pins`,
    tc2PinsDir: `${d}/tc2-pins`,
    enrolledDir: `${layout.stateDir}/enrolled`,
    managementSockets: byProto((p) => `${layout.runDir}/${p}.sock`),
    statusFiles: byProto((p) => `${layout.runDir}/status-${p}.log`),
  };
}

/** Addresses in the tunnel pool minus network, broadcast and the server's own: the most tenants one instance can hold. */
function poolCapacity(instance: InstancePlan): number {
  return 2 ** (32 - instance.prefix) - 3;
}

/**
 * The server config of one instance (`<openvpnDir>/<proto>.conf`).
 * Listens on the server's public IP only (`local`), so it never answers on the tenant VLANs or the
 * management network and UDP replies leave from the address the client dialled (no `multihome` needed).
 */
export function renderServerConfig(stack: string, server: ServerPlan, instance: InstancePlan, layout: ServerLayout): string {
  const p = openvpnFilePaths(layout);
  const udp = instance.proto === "udp";
  const lines = [
    `# OpenVPN ${instance.id} (${server.hostname}): rendered by librerouter-hosting for stack ${stack}; do not edit.`,
    `dev ${instance.dev}`,
    "dev-type tun",
    `proto ${udp ? "udp4" : "tcp4-server"}`,
    `local ${server.publicIp}`,
    `port ${instance.port}`,
    "",
    "# Fixed tunnel IPs only: every tenant gets its address from its ccd file; no ccd file, no tunnel.",
    "topology subnet",
    `server ${instance.network} ${instance.netmask} nopool`,
    `client-config-dir ${p.ccdDirs[instance.proto]}`,
    "ccd-exclusive",
    `max-clients ${poolCapacity(instance)}`,
    "",
    `ca ${p.caCert}`,
    `cert ${p.serverCert}`,
    `key ${p.serverKey}`,
    "dh none",
    "# A key per tenant (tls-crypt-v2): a packet without a key we wrapped is dropped unanswered; the verify hook refuses a",
    "# removed tenant's or a replaced key after the cookie handshake, before any TLS. force-cookie: 2.6 clients only.",
    `tls-crypt-v2 ${p.tlsCryptV2Key} force-cookie`,
    `tls-crypt-v2-verify ${p.tlsCryptV2VerifyHook}`,
    "tls-version-min 1.2",
    "# The control channel pinned: ECDHE on X25519 or P-256 only, and for TLS 1.2 AEAD suites with our ECDSA certificates.",
    "tls-groups X25519:prime256v1",
    "tls-cipher TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384:TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256",
    "remote-cert-tls client",
    "data-ciphers AES-256-GCM:CHACHA20-POLY1305",
    "",
    "# The server pushes ping/ping-restart to clients: a dead server is noticed after the second figure.",
    `keepalive ${server.keepalive.interval} ${server.keepalive.timeout}`,
    ...(udp
      ? ["# UDP only (the TCP server refuses it): on shutdown tell clients to move on to the next server (2), not retry this one.", "explicit-exit-notify 2"]
      : []),
    `tun-mtu ${instance.mtu}`,
    // The manual: mssfix only makes sense on UDP (TCP segments already fit the path).
    ...(udp ? [`mssfix ${instance.mssfix}`] : []),
    "# No ovpn-dco module on these kernels; userspace data channel keeps lab and production identical.",
    "disable-dco",
    "",
    "persist-key",
    "persist-tun",
    `user ${OPENVPN_USER}`,
    `group ${OPENVPN_GROUP}`,
    "",
    "# Certificate and hardware check before the session is accepted (a reject in client-connect would first drop the real tenant's session).",
    "script-security 2",
    `auth-user-pass-verify ${p.authVerifyHook} via-file`,
    "auth-user-pass-optional",
    `client-connect ${p.connectHook}`,
    `client-disconnect ${p.disconnectHook}`,
    "",
    `management ${p.managementSockets[instance.proto]} unix`,
    `status ${p.statusFiles[instance.proto]} 10`,
    "verb 3",
    "",
  ];
  return lines.join("\n");
}
